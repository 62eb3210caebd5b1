"""The Tickets GraphQL API at ``/graphql``, beside the REST API and behind the same key."""
from __future__ import annotations

from flask import Blueprint, Flask

#: the GraphiQL page, served without an API key (``api.auth.OPEN_ENDPOINTS``)
GRAPHIQL_ENDPOINT = "graphql.graphiql"


def register(app: Flask) -> None:
    from api.graphql.schema import schema
    from api.graphql.view import GraphQLView, graphiql

    blp = Blueprint("graphql", __name__)
    blp.add_url_rule("/graphql", view_func=GraphQLView.as_view("query", schema=schema,
                                                               allow_queries_via_get=False),
                     methods=["POST"])
    blp.add_url_rule("/graphql", "graphiql", graphiql, methods=["GET"])
    app.register_blueprint(blp)
