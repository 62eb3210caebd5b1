"""The saga dashboard at /dashboard: server-rendered pages for admins (staff read-only).

Logged in with an account's email and password (a signed session cookie scoped to
/dashboard), every form carries a CSRF token, and the page's only script and style are
files served from here, so a ``default-src 'self'`` content security policy holds.
"""
import hashlib
import hmac
from datetime import timedelta

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
               static_folder="static", static_url_path="/static")


def register(app, settings) -> None:
    from api.dashboard import views  # noqa: F401  the routes

    if not app.config.get("SECRET_KEY"):
        # the session cookie's signing key, derived so that no extra secret is needed
        app.config["SECRET_KEY"] = hmac.new(settings.jwt_secret_key.encode(),
                                            b"boxoffice dashboard session",
                                            hashlib.sha256).hexdigest()
    # the gateway has no other session: its cookie is the dashboard's alone
    app.config.update(SESSION_COOKIE_NAME="boxoffice_dashboard", SESSION_COOKIE_PATH="/dashboard",
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_SECURE=settings.env == "production",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=8))
    app.register_blueprint(bp)
