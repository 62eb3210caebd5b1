"""Celery settings for every boxoffice process.

Each plain value can be overridden from the environment as ``CELERY_<SETTING>`` in upper
case, parsed as JSON when it parses (``CELERY_WORKER_CONCURRENCY=4``,
``CELERY_TASK_ACKS_LATE=false``) and taken as a string otherwise. The domain queues are
durable quorum queues with an explicit delivery limit, each with its own dead-letter
queue (see docs/design.md).
"""
import json
import os

from kombu import Exchange, Queue

from settings import get_settings

_s = get_settings()


DOMAIN_QUEUES = ("tickets", "payments", "orchestration", "users")
DEAD_LETTER_EXCHANGE = Exchange("boxoffice.dlx", type="direct", durable=True)
# A topic exchange: Celery's native delayed delivery (countdown retries on quorum queues)
# re-routes delayed messages to it with the queue name as the last routing-key word.
TASK_EXCHANGE = Exchange("boxoffice", type="topic", durable=True)
#: deliveries of one message before RabbitMQ dead-letters it (a message that keeps
#: killing its worker); set explicitly rather than left to the server's default
QUEUE_DELIVERY_LIMIT = int(os.environ.get("CELERY_QUEUE_DELIVERY_LIMIT", "10"))


def dead_letter_queue(name):
    return Queue(f"{name}.dead", DEAD_LETTER_EXCHANGE, routing_key=name, durable=True)


def domain_queue(name):
    return Queue(
        name,
        TASK_EXCHANGE,
        routing_key=name,
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": QUEUE_DELIVERY_LIMIT,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
            "x-dead-letter-routing-key": name,
        },
    )


broker_url = _s.broker_url
result_backend = _s.result_backend
# Saga state lives in our own tables: nobody reads Celery results.
task_ignore_result = True

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
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
worker_concurrency = 2
worker_consumer = "workers.consumer:DeadLetteringConsumer"
worker_hijack_root_logger = False
task_time_limit = 120
task_soft_time_limit = 100

# Task events cost three messages per task: off until a monitor asks for them (Flower
# turns them on in every worker it sees, and `celery -A workers control enable_events`).
worker_send_task_events = False
task_send_sent_event = False
#: Celery's "received" and "succeeded" line per task at INFO (off: see workers/celery_app)
task_log_lines = False

broker_connection_retry_on_startup = True
broker_pool_limit = 10

if _s.embedded_broker:
    _spool = _s.var_dir / "broker"
    broker_transport_options = {
        "data_folder_in": str(_spool / "queue"),
        "data_folder_out": str(_spool / "queue"),
        "processed_folder": str(_spool / "claimed"),
        "control_folder": str(_spool / "control"),
        "polling_interval": 0.02,
        # keep what no binding routes instead of dropping it
        "deadletter_queue": "unroutable",
    }
else:
    broker_transport_options = {"confirm_publish": True}

beat_schedule_filename = str(_s.var_dir / "celerybeat-schedule")
beat_schedule = {
    "relay-outbox": {
        "task": "orchestration.relay_outbox",
        "schedule": 5.0,  # CELERY_OUTBOX_RELAY_SECONDS
    },
    "relay-task-outbox": {
        "task": "outbox.relay",
        "schedule": 5.0,  # CELERY_OUTBOX_RELAY_SECONDS
    },
    "expire-holds": {
        "task": "tickets.expire_holds",
        "schedule": 5.0,  # CELERY_HOLD_SWEEP_SECONDS
    },
    "saga-watchdog": {
        "task": "orchestration.watchdog",
        "schedule": 10.0,  # CELERY_WATCHDOG_SECONDS
    },
}

outbox_relay_seconds = 5.0
hold_sweep_seconds = 5.0
watchdog_seconds = 10.0


def _override_from_environment(namespace: dict) -> None:
    plain = (bool, int, float, str, dict, list, type(None))
    for name, value in list(namespace.items()):
        if name.startswith("_") or not name.islower() or not isinstance(value, plain):
            continue
        raw = os.environ.get(f"CELERY_{name.upper()}")
        if raw is None:
            continue
        try:
            namespace[name] = json.loads(raw)
        except ValueError:
            namespace[name] = raw


_override_from_environment(globals())
beat_schedule["relay-outbox"]["schedule"] = float(outbox_relay_seconds)
beat_schedule["relay-task-outbox"]["schedule"] = float(outbox_relay_seconds)
beat_schedule["expire-holds"]["schedule"] = float(hold_sweep_seconds)
beat_schedule["saga-watchdog"]["schedule"] = float(watchdog_seconds)
