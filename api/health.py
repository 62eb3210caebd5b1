"""Liveness and readiness, for load balancers and orchestrators."""
from flask_smorest import Blueprint

from workers import health

blp = Blueprint("health", __name__, description="Liveness and readiness")


@blp.route("/healthz")
@blp.doc(security=[])
@blp.response(200)
def healthz():
    """The gateway process is alive"""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.doc(security=[])
@blp.response(200)
@blp.alt_response(503, description="a dependency is down")
def readyz():
    """The database, the broker and Redis answer"""
    checks = health.readiness()
    ready = all(v in ("ok", "not configured") for v in checks.values())
    return {"status": "ready" if ready else "unavailable", "checks": checks}, 200 if ready else 503
