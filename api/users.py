"""Accounts and sessions: register, log in, refresh, log out, profile."""
import uuid
from datetime import datetime, timezone

from flask.views import MethodView
from flask_jwt_extended import decode_token, get_jwt
from flask_smorest import Blueprint, abort

from api import pagination
from api.auth import current_user_id, issue_tokens, login_required, session_expiry
from api.schemas import (
    LoginIn, LogoutIn, NotificationPage, PageArgs, ProfileOut, ProfilePatch, RegisterIn,
    TokensOut, UserOut,
)
from workers.users import service as users
from workers.users import queries as user_queries

blp = Blueprint("users", __name__, description="Accounts and authentication")


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(RegisterIn)
    @blp.response(201, UserOut)
    @blp.alt_response(409, description="an account with this email already exists")
    def post(self, body):
        """Register an account"""
        return users.register(**body)


@blp.route("/users/me")
class Me(MethodView):
    @login_required()
    @blp.response(200, UserOut)
    def get(self):
        """Your profile"""
        user = users.get_user(current_user_id())
        if user is None:
            abort(404, message="no such user")
        return user

    @login_required()
    @blp.arguments(ProfilePatch)
    @blp.response(200, ProfileOut)
    @blp.alt_response(403, description="`current_password` is wrong")
    def patch(self, body):
        """Change your name or password (give `current_password` with a new `password`)

        A new password ends every session of the account; the answer carries a new token
        pair for this one.
        """
        user = users.update_profile(current_user_id(), **body)
        if body.get("password") is not None:
            user.update(issue_tokens(user, family=get_jwt().get("fam")))
        return user

    @login_required()
    @blp.response(204)
    def delete(self):
        """Close your account: it is deactivated now and its personal data scrubbed"""
        users.close_account(current_user_id())
        _end_session(get_jwt())


@blp.route("/users/me/notifications")
class MyNotifications(MethodView):
    @login_required()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, NotificationPage)
    @blp.doc(security=[{"apiKey": [], "bearer": []}])
    def get(self, args):
        """What you were told when each of your purchases ended, newest first"""
        before = pagination.decode(args["cursor"], datetime.fromisoformat, uuid.UUID)
        items = user_queries.notifications_of(current_user_id(), limit=args["limit"] + 1,
                                               before=before)
        return pagination.page(items, args["limit"],
                               key=lambda n: (n["created_at"].isoformat(), n["id"]))


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, TokensOut)
@blp.alt_response(401, description="wrong email or password")
def login(body):
    """Log in: an access token and a refresh token"""
    return issue_tokens(users.authenticate(**body))


@blp.route("/auth/refresh", methods=["POST"])
@login_required(refresh=True)
@blp.response(200, TokensOut)
def refresh():
    """Trade a refresh token (as the bearer token) for a new pair; the old one is used up

    A refresh token works once: presenting it again ends its whole session.
    """
    claims = get_jwt()
    if not users.redeem(claims["jti"], _expiry(claims)):
        users.end_session(claims["fam"], session_expiry())
        abort(401, message="this refresh token was already used: the session is ended")
    user = users.get_user(current_user_id())
    if user is None:
        abort(401, message="the account is closed")
    return issue_tokens(user, family=claims["fam"])


@blp.route("/auth/logout", methods=["POST"])
@login_required()
@blp.arguments(LogoutIn)
@blp.response(204)
def logout(body):
    """End your session: its access and refresh tokens stop working (and the session of
    the refresh token given, if it is another of yours)"""
    _end_session(get_jwt())
    if body.get("refresh_token"):
        try:
            claims = decode_token(body["refresh_token"], allow_expired=True)
        except Exception:  # noqa: BLE001  any undecodable token is simply not revoked
            abort(422, message="invalid refresh_token", errors={"json": {"refresh_token": ["invalid"]}})
        if claims.get("sub") == str(current_user_id()):
            _end_session(claims)


def _expiry(claims: dict) -> datetime:
    return datetime.fromtimestamp(claims["exp"], timezone.utc)


def _end_session(claims: dict) -> None:
    users.revoke(claims["jti"], _expiry(claims))
    if claims.get("fam"):
        users.end_session(claims["fam"], session_expiry())
