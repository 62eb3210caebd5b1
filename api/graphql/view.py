"""``POST /graphql`` runs operations; ``GET /graphql`` serves the GraphiQL page."""
from __future__ import annotations

from cross_web import HTTPException as StrawberryHTTPError
from flask import Request, Response, request
from strawberry.flask.views import GraphQLView as StrawberryFlaskView
from strawberry.http.ides import get_graphql_ide_html

from api.errors import error_response
from api.graphql.context import Context
from api.graphql.limits import MAX_BODY_BYTES
from api.security import inline_script_hashes, policy


class GraphQLView(StrawberryFlaskView):
    """Operations over POST only (no GET, so no queries in URLs and logs); errors the
    transport refuses (bad JSON, no query, batches) answer in the gateway's JSON shape."""

    methods = ["POST"]
    #: read by the gateway's body check (api.parsing) before any view runs
    max_content_length = MAX_BODY_BYTES

    def dispatch_request(self):
        request.max_content_length = MAX_BODY_BYTES
        try:
            return self.run(request=request)
        except StrawberryHTTPError as exc:
            return error_response(exc.status_code, exc.reason)

    def get_context(self, request: Request, response: Response) -> Context:
        return Context.of(request, response)


def graphiql():
    """The GraphiQL IDE: a static page that reads nothing, so it needs no API key; the
    operations it sends do (put ``{"X-API-Key": "..."}`` in its Headers tab)."""
    if "query" in request.args:
        return error_response(405, "send GraphQL operations with POST /graphql")
    html = get_graphql_ide_html("graphiql")
    # its files come pinned (SRI) from unpkg; its one inline script is allowed by hash
    csp = policy(scripts=f"https://unpkg.com {inline_script_hashes(html)}",
                 styles="https://unpkg.com 'unsafe-inline'")
    return Response(html, mimetype="text/html", headers={"Content-Security-Policy": csp})
