"""How the gateway reads requests: query strings as strictly as bodies, and every JSON
body checked once before any view parses it.

webargs drops query parameters a schema does not declare; here every location but
headers, cookies and files follows its schema's ``Meta.unknown``, and ours refuse
unknown fields (``api.schemas.StrictSchema``): ``GET /sagas?event_id=…`` is a 422 naming
``event_id`` instead of a 200 that ignored it. Installed on every flask-smorest
blueprint when ``api`` is imported, before any route is declared.

The gateway reads at most ``MAX_CONTENT_LENGTH`` bytes, or a view's own smaller
``max_content_length`` (413 beyond). A body that is not JSON a Python program can safely
use is refused: malformed, nested too deeply (``RecursionError``), or holding an integer
too long to convert (``ValueError``) → 400; text with a lone UTF-16 surrogate
(``"\\ud800"``, which no database or hash can encode) → 422.
"""
from __future__ import annotations

import json

from flask import Flask, current_app, request
from flask_smorest import Blueprint, abort
from webargs.flaskparser import FlaskParser


class StrictParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": None, "querystring": None}


Blueprint.ARGUMENTS_PARSER = StrictParser()

UNKNOWN = "Unknown field."


def unknown_fields(errors: dict) -> list[str]:
    """Every unknown field named in webargs' messages (keyed by location first), as
    ``query parameter event_id`` or ``field tiers.0.max_per_ordr``."""
    found = []

    def walk(node: dict, path: tuple) -> None:
        for key, value in node.items():
            if value == [UNKNOWN]:
                found.append((*path, str(key)))
            elif isinstance(value, dict):
                walk(value, (*path, str(key)))

    walk(errors, ())
    kinds = {"query": "query parameter", "querystring": "query parameter"}
    return [f"{kinds.get(p[0], 'field')} {'.'.join(p[1:])}" for p in found if len(p) > 1]

def _body_limit() -> int | None:
    """A view's own, smaller body limit (its ``max_content_length``), if it has one."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(getattr(view, "view_class", view), "max_content_length", None)


def _check_json_body():
    if not request.is_json:
        return None
    request.max_content_length = _body_limit() or current_app.config["MAX_CONTENT_LENGTH"]
    raw = request.get_data(cache=True)  # werkzeug enforces the limit: 413
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        abort(400, message="the JSON body is nested too deeply",
              errors={"json": ["nested too deeply"]})
    except UnicodeEncodeError:
        abort(422, message="the JSON body holds text that is not valid Unicode "
                           "(a lone UTF-16 surrogate)",
              errors={"json": ["text must be valid Unicode"]})
    except json.JSONDecodeError as exc:
        abort(400, message=f"the body is not valid JSON: {exc.msg} at position {exc.pos}",
              errors={"json": ["not valid JSON"]})
    except ValueError:  # bad UTF-8, or an integer of more digits than Python converts
        abort(400, message="the body is not usable JSON (bad UTF-8, or a number too long)",
              errors={"json": ["not valid JSON"]})
    return None


def init_parsing(app: Flask, max_content_length: int) -> None:
    app.config["MAX_CONTENT_LENGTH"] = max_content_length
    app.before_request(_check_json_body)
