"""The parts of this process that its composition root built: nothing else builds them.

``workers.bootstrap.bootstrap(settings)`` -- run by ``api.create_app`` in the gateway and
by the Celery app when it loads its configuration (workers, beat, Flower, the ``celery``
command) -- builds them once and installs them here; the code that needs one asks for it
here. Nothing here reads the environment or builds anything itself: used before a root
ran, it raises ``NotBootstrapped``.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher

from settings import Settings


class NotBootstrapped(RuntimeError):
    """A part was asked for before this process's composition root ran."""


@dataclass(frozen=True)
class Parts:
    settings: Settings
    #: argon2 hashes of account passwords
    passwords: PasswordHasher
    #: HMAC-SHA256 keyed with TICKET_SIGNING_KEY (copy it, then update: see ``sign``)
    ticket_signer: hmac.HMAC
    #: HMAC-SHA256 keyed with API_KEY_PEPPER
    api_key_signer: hmac.HMAC

    @classmethod
    def build(cls, settings: Settings, passwords: PasswordHasher | None = None) -> "Parts":
        return cls(settings=settings, passwords=passwords or PasswordHasher(),
                   ticket_signer=hmac.new(settings.ticket_signing_key.encode(),
                                          digestmod=hashlib.sha256),
                   api_key_signer=hmac.new(settings.api_key_pepper.encode(),
                                           digestmod=hashlib.sha256))

    @cached_property
    def dummy_password_hash(self) -> str:
        """A hash of no account's password, made on first use (never at import)."""
        return self.passwords.hash("not a real password")


_parts: Parts | None = None


def install(parts: Parts) -> None:
    global _parts
    _parts = parts


def parts() -> Parts:
    if _parts is None:
        raise NotBootstrapped(
            "this process has no composition root yet: call workers.bootstrap.bootstrap()")
    return _parts


def installed() -> bool:
    return _parts is not None


def settings() -> Settings:
    """The settings the composition root built this process with."""
    return parts().settings


def sign(signer: hmac.HMAC, message: bytes) -> bytes:
    """The HMAC of ``message`` under one of the keyed signers above."""
    mac = signer.copy()
    mac.update(message)
    return mac.digest()
