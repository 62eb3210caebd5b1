"""The HTTP gateway: validates, authenticates, answers reads, hands work to queues."""
from flask import Flask
from flask_smorest import Api

from api import parsing  # noqa: F401  strict query strings, before any blueprint exists
from settings import Settings
from workers import logs, telemetry
from workers.bootstrap import bootstrap

OPENAPI = {
    "API_TITLE": "boxoffice",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "components": {"securitySchemes": {
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        }},
        "security": [{"apiKey": []}],
    },
}


def create_app(settings: Settings | None = None) -> Flask:
    """The gateway's composition root: builds the process's parts from ``settings`` (the
    environment's by default; see workers.bootstrap), then the Flask app on them."""
    from api.auth import init_auth
    from api.cli import register_commands
    from api.errors import register_error_handlers
    from api.parsing import init_parsing
    from api.ratelimits import init_rate_limits
    from api.security import init_security

    settings = bootstrap(settings)
    app = Flask(__name__)
    app.config.update(OPENAPI)
    app.json.sort_keys = False
    init_auth(app, settings)
    init_parsing(app, settings.max_content_length)
    _register_views(app, settings)
    init_security(app)
    register_error_handlers(app)
    telemetry.instrument_flask(app)
    logs.configure_gateway()
    register_commands(app)
    init_rate_limits(app, settings)  # last: it wraps the views registered above
    return app


def _register_views(app: Flask, settings: Settings) -> None:
    """The REST API (with its OpenAPI document), GraphQL, the dashboard and the metrics."""
    from api import events, health, sagas, sales, tickets, users
    from api.dashboard import register as register_dashboard
    from api.graphql import register as register_graphql
    from api.metrics import register as register_metrics
    from api.openapi import ErrorResponses

    api = Api(app, spec_kwargs={"extra_plugins": [ErrorResponses()]})
    for module in (health, users, events, sales, sagas, tickets):
        api.register_blueprint(module.blp)
    register_graphql(app)
    register_dashboard(app, settings)
    register_metrics(app, settings)
