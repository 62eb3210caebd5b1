"""Celery settings for every boxoffice process.

Each value can be overridden from the environment (``CELERY_<SETTING>`` in upper case,
e.g. ``CELERY_WORKER_CONCURRENCY=4``). Queues are classic durable queues, each with its
own dead-letter queue: see docs/messaging.md for why not quorum queues yet.
"""
import os

from kombu import Exchange, Queue

from settings import get_settings

_s = get_settings()


def _env(name, default, cast=str):
    raw = os.environ.get(f"CELERY_{name.upper()}")
    if raw is None:
        return default
    if cast is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return cast(raw)


DOMAIN_QUEUES = ("tickets", "payments", "orchestration", "users")
DEAD_LETTER_EXCHANGE = Exchange("boxoffice.dlx", type="direct", durable=True)
TASK_EXCHANGE = Exchange("boxoffice", type="direct", durable=True)


def dead_letter_queue(name):
    return Queue(f"{name}.dead", DEAD_LETTER_EXCHANGE, routing_key=name, durable=True)


def domain_queue(name):
    return Queue(
        name,
        TASK_EXCHANGE,
        routing_key=name,
        durable=True,
        queue_arguments={
            "x-queue-type": "classic",
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
            "x-dead-letter-routing-key": name,
        },
    )


broker_url = _s.broker_url
result_backend = _s.result_backend
# Saga state lives in our own tables: nobody reads Celery results.
task_ignore_result = _env("task_ignore_result", True, bool)

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
event_serializer = "json"

task_queues = [domain_queue(q) for q in DOMAIN_QUEUES]
task_default_queue = "orchestration"
task_default_exchange = TASK_EXCHANGE.name
task_default_routing_key = "orchestration"
task_create_missing_queues = False
task_routes = {f"{q}.*": {"queue": q, "routing_key": q} for q in DOMAIN_QUEUES}

# Steps are idempotent, so a message is acknowledged only once handled, and comes back if
# the worker process dies mid-task.
task_acks_late = _env("task_acks_late", True, bool)
task_reject_on_worker_lost = _env("task_reject_on_worker_lost", True, bool)
worker_prefetch_multiplier = _env("worker_prefetch_multiplier", 1, int)
worker_concurrency = _env("worker_concurrency", 2, int)
worker_consumer = "workers.consumer:DeadLetteringConsumer"
worker_hijack_root_logger = False
task_time_limit = _env("task_time_limit", 120, int)
task_soft_time_limit = _env("task_soft_time_limit", 100, int)

# Flower needs events.
worker_send_task_events = _env("worker_send_task_events", True, bool)
task_send_sent_event = _env("task_send_sent_event", False, bool)

broker_connection_retry_on_startup = True
broker_pool_limit = _env("broker_pool_limit", 10, int)

if _s.embedded_broker:
    _spool = _s.var_dir / "broker"
    broker_transport_options = {
        "data_folder_in": str(_spool / "queue"),
        "data_folder_out": str(_spool / "queue"),
        "processed_folder": str(_spool / "claimed"),
        "control_folder": str(_spool / "control"),
        "polling_interval": _env("broker_polling_interval", 0.02, float),
    }
else:
    broker_transport_options = {"confirm_publish": True}

beat_schedule_filename = str(_s.var_dir / "celerybeat-schedule")
beat_schedule = {
    "relay-outbox": {
        "task": "orchestration.relay_outbox",
        "schedule": _env("outbox_relay_seconds", 5.0, float),
    },
}
