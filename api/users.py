"""Accounts and sessions: register, log in, refresh, log out, profile."""
import uuid
from datetime import datetime, timezone

from flask.views import MethodView
from flask_jwt_extended import decode_token, get_jwt
from flask_smorest import Blueprint, abort

from api import pagination
from api.auth import current_user_id, issue_tokens, login_required
from api.schemas import (
    LoginIn, LogoutIn, NotificationPage, PageArgs, ProfilePatch, RegisterIn, TokensOut, UserOut,
)
from workers.users import notifications
from workers.users import service as users

blp = Blueprint("users", __name__, description="Accounts and authentication")


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(RegisterIn)
    @blp.response(201, UserOut)
    def post(self, body):
        """Register an account"""
        return users.register(**body)


@blp.route("/users/me")
class Me(MethodView):
    decorators = [login_required()]

    @blp.response(200, UserOut)
    def get(self):
        """Your profile"""
        user = users.get_user(current_user_id())
        if user is None:
            abort(404, message="no such user")
        return user

    @blp.arguments(ProfilePatch)
    @blp.response(200, UserOut)
    def patch(self, body):
        """Change your name or password"""
        return users.update_profile(current_user_id(), **body)

    @blp.response(204)
    def delete(self):
        """Close your account: it is deactivated now and its personal data scrubbed"""
        users.close_account(current_user_id())
        _revoke(get_jwt())


@blp.route("/users/me/notifications")
class MyNotifications(MethodView):
    decorators = [login_required()]

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, NotificationPage)
    @blp.doc(security=[{"apiKey": [], "bearer": []}])
    def get(self, args):
        """What you were told when each of your purchases ended, newest first"""
        before = pagination.decode(args["cursor"], datetime.fromisoformat, uuid.UUID)
        items = notifications.notifications_of(current_user_id(), limit=args["limit"] + 1,
                                               before=before)
        return pagination.page(items, args["limit"],
                               key=lambda n: (n["created_at"].isoformat(), n["id"]))


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, TokensOut)
def login(body):
    """Log in: an access token and a refresh token"""
    return issue_tokens(users.authenticate(**body))


@blp.route("/auth/refresh", methods=["POST"])
@login_required(refresh=True)
@blp.response(200, TokensOut)
def refresh():
    """Trade a refresh token (as the bearer token) for a new pair; the old one is revoked"""
    user = users.get_user(current_user_id())
    if user is None:
        abort(401, message="account is closed")
    _revoke(get_jwt())
    return issue_tokens(user)


@blp.route("/auth/logout", methods=["POST"])
@login_required()
@blp.arguments(LogoutIn)
@blp.response(204)
def logout(body):
    """Revoke your access token (and the refresh token, if given)"""
    _revoke(get_jwt())
    if body.get("refresh_token"):
        try:
            claims = decode_token(body["refresh_token"])
        except Exception:  # noqa: BLE001  any undecodable token is simply not revoked
            abort(422, message="invalid refresh_token", errors={"json": {"refresh_token": ["invalid"]}})
        if claims.get("sub") == str(current_user_id()):
            _revoke(claims)


def _revoke(claims: dict) -> None:
    users.revoke_token(claims["jti"], datetime.fromtimestamp(claims["exp"], timezone.utc))


