"""Which tokens still work: revocation, sessions (token families) and generations.

A login starts a *session*, a family of tokens: every token it hands out, and every token
a refresh of them hands out, carries the family id. A refresh token is redeemed exactly
once, by one conditional insert into the revoked-token table; presenting it again is
taken for theft and ends the whole family. Every token also carries the account's token
generation at its issue: changing the password raises it, which ends every session at
once. Every request with a token reads the account (active? which role? which
generation?) and the revocations of the token and its family, in one transaction.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite

from workers.db import reading, transaction
from workers.steps import utcnow
from workers.users.models import RevokedToken, User


def family_key(family: str) -> str:
    return f"family:{family}"


@dataclass(frozen=True)
class TokenState:
    """What the database says of a token now; ``refusal`` is ``None`` if it may be used."""

    role: str | None
    generation: int | None
    refusal: str | None
    #: the token itself was redeemed or revoked (as opposed to its session or account)
    token_revoked: bool = False


_USERS, _REVOKED = User.__table__, RevokedToken.__table__
#: the account's state and whether the token, or its session, was revoked: one row
_TOKEN_STATE = select(
    _USERS.c.is_active, _USERS.c.role, _USERS.c.token_generation,
    exists().where(_REVOKED.c.jti == bindparam("jti")).label("token_revoked"),
    exists().where(_REVOKED.c.jti == bindparam("family")).label("family_revoked"),
).where(_USERS.c.id == bindparam("user_id"))


def token_state(user_id: uuid.UUID, jti: str, family: str | None,
                generation: int | None) -> TokenState:
    with reading() as s:  # one statement, in autocommit: every request asks it
        user = s.execute(_TOKEN_STATE, {"user_id": user_id, "jti": jti,
                                        "family": family_key(family) if family else None}).first()
    if user is None or not user.is_active:
        return TokenState(None, None, "the account is closed")
    if user.token_revoked:
        return TokenState(user.role, user.token_generation, "token has been revoked",
                          token_revoked=True)
    if family is None or user.family_revoked:
        return TokenState(user.role, user.token_generation, "this session has ended")
    if generation != user.token_generation:
        return TokenState(user.role, user.token_generation,
                          "the password was changed: log in again")
    return TokenState(user.role, user.token_generation, None)


def _insert_revocation(s, key: str, expires_at: datetime) -> bool:
    dialect = postgresql if s.bind.dialect.name == "postgresql" else sqlite
    return s.execute(dialect.insert(RevokedToken).values(jti=key, expires_at=expires_at)
                     .on_conflict_do_nothing(index_elements=["jti"])
                     .returning(RevokedToken.jti)).first() is not None


def redeem(jti: str, expires_at: datetime) -> bool:
    """Use up a refresh token: ``True`` for exactly one caller, however many race."""
    with transaction() as s:
        won = _insert_revocation(s, jti, expires_at)
        s.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    return won


def revoke(jti: str, expires_at: datetime) -> None:
    with transaction() as s:
        _insert_revocation(s, jti, expires_at)


def end_session(family: str, expires_at: datetime) -> None:
    """Revoke every token of a session; ``expires_at``: when its last token expires."""
    with transaction() as s:
        _insert_revocation(s, family_key(family), expires_at)
