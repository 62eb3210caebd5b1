"""Every JSON request body is checked here, once, before any view parses it.

The gateway reads at most ``MAX_CONTENT_LENGTH`` bytes, or a view's own smaller
``max_content_length`` (413 beyond). A body that is not
JSON a Python program can safely use is refused: malformed, nested too deeply
(``RecursionError``), or holding an integer too long to convert (``ValueError``) →
400; text with a lone UTF-16 surrogate (``"\\ud800"``, which no database or hash can
encode) → 422.
"""
from __future__ import annotations

import json

from flask import Flask, current_app, request
from flask_smorest import abort


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
