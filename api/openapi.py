"""The OpenAPI document states, for every operation, who may call it and every answer
it can give: this plugin adds the refusals that follow from what an operation is.

- a key or token is required (its ``security``): 401; ``x-roles``: 403 too;
- a path parameter: 404 when there is no such thing (or it is not yours);
- a request body: 400 (not JSON), 413 (too large), 422 (invalid);
- a rate-limited route (``api.ratelimits.LIMITED``) or a capped one: 429, ``Retry-After``;
- anything that reads the database: 503 while it is unavailable.

Answers particular to one operation (409 of a check-in, ...) are declared at the view.
"""
from __future__ import annotations

from apispec import BasePlugin

#: endpoints that may answer 429 besides the rate-limited ones (per-user caps)
CAPPED = {"sagas.start_purchase"}
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
RESPONSES = {
    "400": ("BadRequest", "the body is not JSON the gateway can use"),
    "401": ("Unauthorized", "no valid API key, or no valid, unrevoked token of an open account"),
    "403": ("Forbidden", "the account's role may not do this"),
    "404": ("NotFound", "no such thing, or not yours"),
    "409": ("Conflict", "the current state does not allow this"),
    "413": ("PayloadTooLarge", "the body is larger than MAX_CONTENT_LENGTH"),
    "422": ("UnprocessableEntity", "invalid request: `errors` names the fields"),
    "429": ("TooManyRequests", "too many requests or purchases in flight: retry later"),
    "503": ("ServiceUnavailable", "the database is unavailable: retry shortly"),
}


class ErrorResponses(BasePlugin):
    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        self.spec = spec
        for _code, (name, description) in RESPONSES.items():
            component = {"description": description, "content": ERROR}
            if name == "TooManyRequests":
                component["headers"] = {"Retry-After": {
                    "description": "seconds to wait", "schema": {"type": "integer"}}}
            spec.components.response(name, component)

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        from api.ratelimits import LIMITED

        rule = kwargs.get("rule")
        endpoint = getattr(rule, "endpoint", None)
        for method, operation in (operations or {}).items():
            codes = set()
            if operation.get("security", ["document default: the API key"]):
                codes |= {"401", "503"}
            if operation.get("x-roles"):
                codes.add("403")
            if "{" in (path or ""):
                codes.add("404")
            if "requestBody" in operation:
                codes |= {"400", "413", "422"}
            if any(p.get("in") == "query" for p in operation.get("parameters", [])
                   if isinstance(p, dict)):
                codes.add("422")
            if (endpoint in LIMITED and LIMITED[endpoint][0].lower() == method) or \
                    endpoint in CAPPED:
                codes.add("429")
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(code, {"$ref": f"#/components/responses/{RESPONSES[code][0]}"})
