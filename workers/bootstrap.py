"""The composition root of every boxoffice process.

``bootstrap(settings)`` builds, once per process, what the rest of the code is handed:
the settings (read from the environment in settings.py unless given), the Celery app's
configuration (the publisher every task message goes through), the database URL its
engine and session factory are built from (once per process, on first use, so that a
forked worker builds its own), and the password hasher and HMAC signers
(workers.runtime). The gateway runs it in ``api.create_app``; every ``celery -A workers``
process (workers, beat, Flower, the operators' commands) runs it when the Celery app first
loads its configuration. Importing a module builds nothing and connects nowhere.
"""
from __future__ import annotations

from argon2 import PasswordHasher

from celeryconfig import celery_config
from settings import Settings, get_settings
from workers import db, runtime
from workers.celery_app import app

_AMQP = "workers.masking:MaskingAMQP"
_DUPLICATING_AMQP = "workers.faults:DuplicatingAMQP"


def bootstrap(settings: Settings | None = None, *,
              passwords: PasswordHasher | None = None) -> Settings:
    """Build this process's parts from ``settings`` (the environment's by default) and
    hand them out; running it again (tests) replaces them. ``passwords``: another password
    hasher than argon2's default (tests hash at the lightest cost)."""
    settings = settings or get_settings()
    runtime.install(runtime.Parts.build(settings, passwords))
    db.configure(settings.database_url)
    _configure_celery(settings)
    return settings


def ensure() -> Settings:
    """The settings of this process, bootstrapping it from the environment if no root ran
    yet (the Celery app and Flower's configuration file, loaded by the ``celery``
    command)."""
    return runtime.settings() if runtime.installed() else bootstrap()


def _configure_celery(settings: Settings) -> None:
    if getattr(app, "boxoffice_settings", None) == settings:
        return
    app.boxoffice_settings = settings
    amqp = _DUPLICATING_AMQP if settings.duplicate_publish else _AMQP
    if app.amqp_cls != amqp:
        app.amqp_cls = amqp
        app.__dict__.pop("amqp", None)  # built from the other class: built again on use
    if app.configured:
        app.conf.update(celery_config(settings))
    else:
        app.config_from_object(celery_config(settings))


@app.on_configure.connect
def _configure_on_first_use(sender=None, **_):
    """``celery -A workers ...`` reads the app's configuration first: its root runs then."""
    ensure()
