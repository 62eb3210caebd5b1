"""How the gateway reads requests: query strings as strictly as bodies.

webargs drops query parameters a schema does not declare; here every location but
headers, cookies and files follows its schema's ``Meta.unknown``, and ours refuse
unknown fields (``api.schemas.StrictSchema``): ``GET /sagas?event_id=…`` is a 422 naming
``event_id`` instead of a 200 that ignored it. Installed on every flask-smorest
blueprint when ``api`` is imported, before any route is declared.
"""
from flask_smorest import Blueprint
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
