"""Who is logged in to the dashboard, and the CSRF token of their forms."""
from __future__ import annotations

import hmac
import secrets
import uuid
from functools import wraps

from flask import abort, g, redirect, request, session, url_for

from workers.users import service as users

#: roles that may open the dashboard; only admins may act on sagas
ROLES = ("admin", "staff")


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, description="the form has expired; reload the page and try again")


def log_in(user: dict) -> None:
    session.clear()
    session.permanent = True
    session["user_id"] = str(user["id"])
    session["csrf"] = secrets.token_urlsafe(32)


def current_user() -> dict | None:
    """The logged-in account, re-read each request: a demoted or closed account is out."""
    if "user" not in g:
        raw = session.get("user_id")
        user = users.get_user(uuid.UUID(raw)) if raw else None
        g.user = user if user and user["role"] in ROLES else None
    return g.user


def viewer_required(json: bool = False):
    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            if current_user() is None:
                if json:
                    abort(401, description="log in to the dashboard first")
                return redirect(url_for("dashboard.login", next=request.path))
            return fn(*args, **kwargs)
        return wrapper
    return decorator


def admin_action(fn):
    """A POST that changes something: admins only, with a valid CSRF token."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        user = current_user()
        if user is None:
            abort(401, description="log in to the dashboard first")
        check_csrf()
        if user["role"] != "admin":
            abort(403, description="staff accounts can look but not act")
        return fn(*args, **kwargs)
    return wrapper
