"""The one place boxoffice reads its configuration from the environment.

Development defaults make `make run` work on a bare machine (SQLite files and a
server-less broker under ``var/``); production refuses to start on them.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from click import ClickException

ROOT = Path(__file__).resolve().parent
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_API_KEY_PEPPER = "dev-only-api-key-pepper"
DEV_TICKET_SIGNING_KEY = "dev-only-ticket-signing-key-change-me-0123456789"
FAIL_CONFIRM_TIER = "__fail_confirm__"
#: with fault injection, confirming seats of a tier of this name kills the worker process
CRASH_CONFIRM_TIER = "__crash_confirm__"


FALSE = ("0", "false", "no", "off")
#: deliveries of one message before RabbitMQ dead-letters it (a message that keeps killing
#: its worker): set explicitly on every domain queue rather than left to the server
DEFAULT_QUEUE_DELIVERY_LIMIT = 10
#: ``CELERY_*`` variables that are settings of their own, not overrides of celeryconfig
_CELERY_SETTINGS = ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_QUEUE_DELIVERY_LIMIT")


class ConfigurationError(ClickException, RuntimeError):
    """Raised when the environment cannot run the requested mode safely.

    A click exception, so that every command line (``flask``, ``celery``) reports it as
    one line, ``Error: ...``, and exits 1 before doing anything.
    """


@dataclass(frozen=True)
class Settings:
    env: str
    var_dir: Path
    database_url: str
    broker_url: str
    result_backend: str | None
    redis_url: str | None
    jwt_secret_key: str
    api_key_pepper: str
    #: signs ticket codes; changing it makes every issued ticket's code invalid
    ticket_signing_key: str
    payment_latency_ms: int
    #: a ``pending`` charge claim older than this is taken over (its claimer died)
    payment_claim_lease_seconds: int
    jwt_access_minutes: int
    jwt_refresh_days: int
    #: tiers named FAIL_CONFIRM_TIER fail at confirm: for tests of compensation only
    fault_injection: bool
    #: with fault injection: publish every task message twice
    duplicate_publish: bool
    #: retries of a step that failed transiently, with exponential backoff up to the max
    step_max_retries: int
    step_retry_backoff_max: int
    #: a saga making no progress for this long is re-driven by the watchdog
    saga_step_timeout_seconds: int
    #: re-drives of a stuck saga before it is compensated (or, compensating, failed)
    saga_max_redrives: int
    #: a charge failing transiently is retried for at most this long after the seats were
    #: reserved, then the saga gives them back (keep it well under the hold time)
    charge_retry_budget_seconds: float
    #: request rate limits (Flask-Limiter notation, ";" between several): off with
    #: RATELIMIT_ENABLED=false; stored in RATELIMIT_STORAGE_URI (default REDIS_URL)
    ratelimit_enabled: bool
    ratelimit_storage_uri: str
    #: keeps the counters of deployments that share one Redis apart
    ratelimit_key_prefix: str
    ratelimit_account: str
    ratelimit_purchase: str
    ratelimit_ip: str
    ratelimit_client: str
    #: purchases in flight and seats they hold, per buyer (0: no cap)
    max_open_purchases_per_user: int
    max_held_seats_per_user: int
    #: the largest request body the gateway reads
    max_content_length: int
    #: bearer token Prometheus sends to GET /metrics (admins' access tokens work too)
    metrics_token: str | None = None
    queue_delivery_limit: int = DEFAULT_QUEUE_DELIVERY_LIMIT
    #: ``json`` or ``text`` (the default: json in production)
    log_format: str = "text"
    log_level: str = "INFO"
    #: ``user:password[,user:password]`` for Flower (development: generated in var_dir)
    flower_basic_auth: str = ""
    #: Celery settings of celeryconfig.py overridden as ``CELERY_<SETTING>`` (parsed as
    #: JSON when it parses, else a string), e.g. ``{"worker_concurrency": 4}``
    celery_overrides: dict = field(default_factory=dict, hash=False)

    @property
    def embedded_broker(self) -> bool:
        return self.broker_url.startswith("spool://")

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "Settings":
        e = os.environ if environ is None else environ
        var_dir = Path(e.get("BOXOFFICE_VAR_DIR", ROOT / "var")).resolve()
        env = e.get("BOXOFFICE_ENV", "development")
        production = env == "production"
        settings = cls(
            env=env,
            var_dir=var_dir,
            database_url=normalise_database_url(
                e.get("DATABASE_URL") or f"sqlite:///{var_dir / 'boxoffice.db'}"),
            broker_url=e.get("CELERY_BROKER_URL") or "spool://",
            result_backend=e.get("CELERY_RESULT_BACKEND") or None,
            redis_url=e.get("REDIS_URL") or None,
            jwt_secret_key=e.get("JWT_SECRET_KEY") or DEV_JWT_SECRET,
            api_key_pepper=e.get("API_KEY_PEPPER") or DEV_API_KEY_PEPPER,
            ticket_signing_key=e.get("TICKET_SIGNING_KEY") or DEV_TICKET_SIGNING_KEY,
            payment_latency_ms=int(e.get("PAYMENT_LATENCY_MS", "0")),
            payment_claim_lease_seconds=int(e.get("PAYMENT_CLAIM_LEASE_SECONDS", "30")),
            jwt_access_minutes=int(e.get("JWT_ACCESS_MINUTES", "15")),
            jwt_refresh_days=int(e.get("JWT_REFRESH_DAYS", "30")),
            fault_injection=e.get("BOXOFFICE_FAULT_INJECTION", "") in ("1", "true", "yes"),
            duplicate_publish=e.get("BOXOFFICE_DUPLICATE_PUBLISH", "") in ("1", "true", "yes"),
            step_max_retries=int(e.get("STEP_MAX_RETRIES", "8")),
            step_retry_backoff_max=int(e.get("STEP_RETRY_BACKOFF_MAX", "30")),
            saga_step_timeout_seconds=int(e.get("SAGA_STEP_TIMEOUT_SECONDS", "60")),
            saga_max_redrives=int(e.get("SAGA_MAX_REDRIVES", "3")),
            metrics_token=e.get("METRICS_TOKEN") or None,
            charge_retry_budget_seconds=float(e.get("CHARGE_RETRY_BUDGET_SECONDS", "30")),
            **_limits(e),
            **_operations(e, production),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.env not in ("development", "production"):
            raise ConfigurationError(f"BOXOFFICE_ENV must be development or production, not {self.env!r}")
        if self.duplicate_publish and not self.fault_injection:
            raise ConfigurationError("BOXOFFICE_DUPLICATE_PUBLISH needs BOXOFFICE_FAULT_INJECTION=1")
        check_database_url(self.database_url)
        check_broker_url(self.broker_url)
        if self.env != "production":
            return
        if self.jwt_secret_key == DEV_JWT_SECRET or len(self.jwt_secret_key) < 32:
            raise ConfigurationError("production needs JWT_SECRET_KEY set to a secret of 32+ characters")
        if self.api_key_pepper == DEV_API_KEY_PEPPER or len(self.api_key_pepper) < 16:
            raise ConfigurationError("production needs API_KEY_PEPPER set to a secret of 16+ characters")
        if self.fault_injection:
            raise ConfigurationError("BOXOFFICE_FAULT_INJECTION is for tests, not production")
        if self.embedded_broker or self.database_url.startswith("sqlite"):
            raise ConfigurationError("production needs CELERY_BROKER_URL and DATABASE_URL of real servers")
        if self.ticket_signing_key == DEV_TICKET_SIGNING_KEY or len(self.ticket_signing_key) < 32:
            raise ConfigurationError("production needs TICKET_SIGNING_KEY set to a secret of 32+ characters")


def _limits(e) -> dict:
    """Request rate limits, per-buyer caps and the body size, from the environment ``e``."""
    return dict(
        ratelimit_enabled=e.get("RATELIMIT_ENABLED", "true").lower() not in FALSE,
        ratelimit_storage_uri=e.get("RATELIMIT_STORAGE_URI") or e.get("REDIS_URL") or "memory://",
        ratelimit_key_prefix=e.get("RATELIMIT_KEY_PREFIX", "boxoffice"),
        ratelimit_account=e.get("RATELIMIT_ACCOUNT", "10/minute;100/hour"),
        ratelimit_purchase=e.get("RATELIMIT_PURCHASE", "30/minute"),
        ratelimit_ip=e.get("RATELIMIT_IP", "60/minute"),
        ratelimit_client=e.get("RATELIMIT_CLIENT", "1200/minute"),
        max_open_purchases_per_user=int(e.get("MAX_OPEN_PURCHASES_PER_USER", "5")),
        max_held_seats_per_user=int(e.get("MAX_HELD_SEATS_PER_USER", "20")),
        max_content_length=int(e.get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
    )


def _operations(e, production: bool) -> dict:
    """Logs, Flower's login and the Celery settings, from the environment ``e``."""
    return dict(
        queue_delivery_limit=int(e.get("CELERY_QUEUE_DELIVERY_LIMIT",
                                       str(DEFAULT_QUEUE_DELIVERY_LIMIT))),
        log_format=e.get("LOG_FORMAT", "json" if production else "text").lower(),
        log_level=e.get("LOG_LEVEL", "INFO").upper(),
        flower_basic_auth=e.get("FLOWER_BASIC_AUTH", "").strip(),
        celery_overrides=celery_overrides(e),
    )


def celery_overrides(environ) -> dict:
    """``CELERY_<SETTING>=value`` variables as ``{setting: value}``, the value parsed as
    JSON when it parses (``CELERY_TASK_ACKS_LATE=false``) and taken as a string otherwise."""
    overrides = {}
    for name, raw in environ.items():
        if not name.startswith("CELERY_") or name in _CELERY_SETTINGS:
            continue
        try:
            overrides[name[len("CELERY_"):].lower()] = json.loads(raw)
        except ValueError:
            overrides[name[len("CELERY_"):].lower()] = raw
    return overrides


#: the PostgreSQL driver boxoffice ships with (psycopg2-binary)
POSTGRES_SCHEME = "postgresql+psycopg2"
_POSTGRES_ALIASES = ("postgresql", "postgres", POSTGRES_SCHEME)


def normalise_database_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` (what hosts hand out) name our driver."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in _POSTGRES_ALIASES:
        return f"{POSTGRES_SCHEME}://{rest}"
    return url


def check_database_url(url: str) -> None:
    """Refuse, at start, a database URL this installation cannot connect with."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme in ("sqlite", "sqlite+pysqlite"):
        return
    if scheme != POSTGRES_SCHEME:
        raise ConfigurationError(
            "DATABASE_URL must be postgresql://user@host:5432/db (PostgreSQL, through the "
            f"psycopg2 driver boxoffice ships) or sqlite:///path, not {_shown(scheme)}")
    try:
        import psycopg2  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            f"DATABASE_URL names PostgreSQL, but its driver psycopg2 is not installed: {exc}"
        ) from exc


#: message transports a boxoffice worker runs on (RabbitMQ; the embedded spool)
_BROKER_SCHEMES = ("amqp", "amqps", "pyamqp", "spool")


def check_broker_url(url: str) -> None:
    """Refuse, at start, a broker URL our queues cannot run on (quorum queues, DLX)."""
    parts = [p.strip() for p in url.split(";") if p.strip()]  # failover: a;b
    schemes = {p.partition("://")[0].lower() if "://" in p else "" for p in parts}
    if not parts or not schemes <= set(_BROKER_SCHEMES):
        raise ConfigurationError(
            "CELERY_BROKER_URL must be a RabbitMQ URL (amqp://user:password@host:5672/vhost) "
            f"or spool:// (embedded), not {_shown(max(schemes, default=''))}")


def _shown(scheme: str) -> str:
    """A URL's scheme for an error message (never the rest: it may hold a password)."""
    return f"{scheme[:40]!r}" if scheme else "a value without a scheme://"


_current: Settings | None = None


def get_settings() -> Settings:
    """The settings of this process, read from the environment once: for the composition
    roots (``workers.bootstrap``, ``api.create_app``), which hand them to the rest."""
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


def reset_settings() -> None:
    """Forget cached settings (tests that change the environment)."""
    global _current
    _current = None
