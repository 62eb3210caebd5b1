"""Flower's basic-auth credentials: ``FLOWER_BASIC_AUTH`` (``user:password[,user:password]``),
required in production; in development generated once into the state directory."""
from __future__ import annotations

import os
import secrets

from settings import ConfigurationError, Settings

MIN_PASSWORD = 12


def credentials(settings: Settings) -> list[str]:
    raw = settings.flower_basic_auth
    if raw:
        pairs = [p.strip() for p in raw.split(",") if p.strip()]
        for pair in pairs:
            user, _, password = pair.partition(":")
            if not user or len(password) < (MIN_PASSWORD if settings.env == "production" else 1):
                raise ConfigurationError(
                    f"FLOWER_BASIC_AUTH must be user:password (a password of {MIN_PASSWORD}+ "
                    "characters in production), several separated by commas")
        return pairs
    if settings.env == "production":
        raise ConfigurationError("production needs FLOWER_BASIC_AUTH=user:password for Flower")
    return [development_credentials(settings)]


def development_credentials(settings: Settings) -> str:
    """``flower:<random>``, made once and kept in the state directory."""
    path = settings.var_dir / "flower-credentials"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = f"flower:{secrets.token_urlsafe(12)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value
