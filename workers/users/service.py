"""Business rules of the users domain."""
from __future__ import annotations

import secrets
import uuid

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from contracts import AnonymiseUser
from workers import outbox, runtime
from workers.db import reading, transaction
from workers.steps import utcnow
from workers.users.errors import (
    ApiKeyNameTaken, ApiKeyNotFound, EmailTaken, InvalidCredentials, UserNotFound, WrongPassword,
)
from workers.users.models import ApiKey, User

# The domain's public face is this module, ``queries`` and ``errors``: what the gateway may
# use of the other modules is re-exported from them.
from workers.users.models import ROLES  # noqa: F401
from workers.users.passwords import (  # noqa: F401  what a new password must be
    MAX_LENGTH as PASSWORD_MAX_LENGTH, MIN_DISTINCT as PASSWORD_MIN_DISTINCT,
    MIN_LENGTH as PASSWORD_MIN_LENGTH, problems as password_problems,
)
from workers.users.sessions import end_session, redeem, revoke  # noqa: F401

API_KEY_PREFIX = "bo_"


def _user(u: User) -> dict:
    return {"id": u.id, "email": u.email, "name": u.name, "role": u.role,
            "is_active": u.is_active, "created_at": u.created_at,
            "token_generation": u.token_generation or 0}


def register(*, email: str, password: str, name: str, role: str = "buyer") -> dict:
    try:
        with transaction() as s:
            user = User(email=email.strip().lower(), name=name, role=role,
                        password_hash=runtime.parts().passwords.hash(password), is_active=True,
                        created_at=utcnow())
            s.add(user)
            s.flush()
            return _user(user)
    except IntegrityError:
        raise EmailTaken(email) from None


def create_admin(*, email: str, password: str, name: str = "Administrator") -> dict:
    """Make an admin, or promote an existing account (and reset its password)."""
    with transaction() as s:
        user = s.scalar(select(User).where(User.email == email.strip().lower()))
        if user is not None:
            user.role, user.is_active = "admin", True
            _set_password(user, password)
            return _user(user)
    return register(email=email, password=password, name=name, role="admin")


def set_role(*, email: str, role: str) -> dict:
    with transaction() as s:
        user = s.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise UserNotFound(email)
        user.role = role
        return _user(user)


def authenticate(*, email: str, password: str) -> dict:
    with transaction() as s:
        user = s.scalar(select(User).where(User.email == email.strip().lower()))
    parts = runtime.parts()
    # Verifying against a dummy keeps a login for an unknown email as slow as for a known one.
    try:
        parts.passwords.verify(user.password_hash if user else parts.dummy_password_hash, password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials() from None
    if user is None or not user.is_active:
        raise InvalidCredentials()
    return _user(user)


def get_user(user_id: uuid.UUID) -> dict | None:
    with transaction() as s:
        user = s.get(User, user_id)
        return _user(user) if user is not None and user.is_active else None


def update_profile(user_id: uuid.UUID, *, name: str | None = None,
                   password: str | None = None, current_password: str | None = None) -> dict:
    """Change the name, or the password (the current one must be given): a new password
    raises the token generation, which ends every session of the account."""
    with transaction() as s:
        user = s.get(User, user_id, with_for_update=True)
        if user is None or not user.is_active:
            raise UserNotFound(str(user_id))
        if password is not None:
            if not _verifies(user.password_hash, current_password or ""):
                raise WrongPassword("current_password is not this account's password")
            _set_password(user, password)
        if name is not None:
            user.name = name
        return _user(user)


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return runtime.parts().passwords.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _set_password(user: User, password: str) -> None:
    user.password_hash = runtime.parts().passwords.hash(password)
    user.token_generation = (user.token_generation or 0) + 1


def deactivate(user_id: uuid.UUID) -> None:
    """Close an account at once: it can no longer log in; its details are scrubbed later."""
    with transaction() as s:
        _deactivate(s, user_id)


def _deactivate(s, user_id: uuid.UUID) -> None:
    if s.execute(update(User).where(User.id == user_id, User.is_active.is_(True))
                 .values(is_active=False)).rowcount != 1:
        raise UserNotFound(str(user_id))


def close_account(user_id: uuid.UUID) -> None:
    """Deactivate now, and owe the scrubbing of the account's personal data to the users
    queue in the same transaction (published after the commit, relayed if the broker is
    down)."""
    with transaction() as s:
        _deactivate(s, user_id)
        outbox.add(s, "users.anonymise", AnonymiseUser.build(user_id=user_id))


def anonymise(user_id: uuid.UUID) -> None:
    with transaction() as s:
        user = s.get(User, user_id)
        if user is None or user.is_active:
            return
        user.email = f"deleted-{user.id}@invalid"
        user.name = ""
        user.password_hash = "!"


def _key_hash(key: str) -> str:
    return runtime.sign(runtime.parts().api_key_signer, key.encode()).hex()


def create_api_key(name: str) -> str:
    """Issue a key for a client application; only its hash is kept, so show it now."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction() as s:
            s.add(ApiKey(name=name, key_hash=_key_hash(key), prefix=key[:10],
                         created_at=utcnow()))
    except IntegrityError:
        raise ApiKeyNameTaken(name) from None
    return key


def revoke_api_key(name: str) -> None:
    with transaction() as s:
        if s.execute(update(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
                     .values(revoked_at=utcnow())).rowcount != 1:
            raise ApiKeyNotFound(name)


def api_key_client(key: str | None) -> str | None:
    """The client name of a valid, unrevoked key, else ``None`` (also for no key)."""
    if not key or not key.startswith(API_KEY_PREFIX) or len(key) > 100:
        return None
    with reading() as s:
        return s.scalar(_KEY_CLIENT, {"key_hash": _key_hash(key)})


_KEY_CLIENT = select(ApiKey.__table__.c.name).where(
    ApiKey.__table__.c.key_hash == bindparam("key_hash"), ApiKey.__table__.c.revoked_at.is_(None))
