"""Celery settings for every boxoffice process, built from the process's ``Settings``.

``celery_config(settings)`` is what the composition root (workers/bootstrap.py) configures
the Celery app with. Each plain value below can be overridden from the environment as
``CELERY_<SETTING>`` in upper case, parsed as JSON when it parses
(``CELERY_WORKER_CONCURRENCY=4``, ``CELERY_TASK_ACKS_LATE=false``) and taken as a string
otherwise (read with the rest of the environment, in settings.py). The domain queues are
durable quorum queues with an explicit delivery limit (``CELERY_QUEUE_DELIVERY_LIMIT``),
each with its own dead-letter queue (see docs/design.md).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from kombu import Exchange, Queue

from settings import DEFAULT_QUEUE_DELIVERY_LIMIT

if TYPE_CHECKING:
    from settings import Settings

DOMAIN_QUEUES = ("tickets", "payments", "orchestration", "users")
DEAD_LETTER_EXCHANGE = Exchange("boxoffice.dlx", type="direct", durable=True)
# A topic exchange: Celery's native delayed delivery (countdown retries on quorum queues)
# re-routes delayed messages to it with the queue name as the last routing-key word.
TASK_EXCHANGE = Exchange("boxoffice", type="topic", durable=True)


def dead_letter_queue(name):
    return Queue(f"{name}.dead", DEAD_LETTER_EXCHANGE, routing_key=name, durable=True)


def domain_queue(name, delivery_limit: int = DEFAULT_QUEUE_DELIVERY_LIMIT):
    return Queue(
        name,
        TASK_EXCHANGE,
        routing_key=name,
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
            "x-dead-letter-routing-key": name,
        },
    )


#: the plain settings, each overridable as CELERY_<NAME>
DEFAULTS = {
    # Saga state lives in our own tables: nobody reads Celery results.
    "task_ignore_result": True,
    "task_serializer": "json",
    "result_serializer": "json",
    "accept_content": ["json"],
    "event_serializer": "json",
    "task_default_queue": "orchestration",
    "task_default_exchange": TASK_EXCHANGE.name,
    "task_default_routing_key": "orchestration",
    "task_create_missing_queues": False,
    # Steps are idempotent, so a message is acknowledged only once handled, and comes back
    # if the worker process dies mid-task.
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    # Tasks run in pool children (prefork): a task that kills its process (a poison
    # message) costs a child, not the worker, and only that message is redelivered; the
    # time limits below are enforced. The solo pool costs a third less CPU per step but
    # gives up both (docs/benchmarks: "Measured and not kept").
    "worker_pool": "prefork",
    "worker_prefetch_multiplier": 1,
    "worker_concurrency": 2,
    "worker_consumer": "workers.consumer:DeadLetteringConsumer",
    "worker_hijack_root_logger": False,
    "task_time_limit": 120,
    "task_soft_time_limit": 100,
    # Task events cost three messages per task: off until a monitor asks for them (Flower
    # turns them on in every worker it sees, and `celery -A workers control enable_events`).
    "worker_send_task_events": False,
    "task_send_sent_event": False,
    #: Celery's "received" and "succeeded" line per task at INFO (off: see workers/celery_app)
    "task_log_lines": False,
    "broker_connection_retry_on_startup": True,
    "broker_pool_limit": 10,
    # the periods of beat's schedule, in seconds
    "outbox_relay_seconds": 5.0,
    "hold_sweep_seconds": 5.0,
    "watchdog_seconds": 10.0,
}


def celery_config(settings: Settings) -> dict:
    """The Celery configuration of a process running with ``settings``."""
    plain = (bool, int, float, str, dict, list, type(None))
    conf = {**DEFAULTS, "broker_url": settings.broker_url,
            "result_backend": settings.result_backend,
            "broker_transport_options": _transport_options(settings),
            "beat_schedule_filename": str(settings.var_dir / "celerybeat-schedule")}
    conf.update({name: value for name, value in settings.celery_overrides.items()
                 if name in conf and isinstance(conf[name], plain)})
    conf["task_queues"] = [domain_queue(q, settings.queue_delivery_limit) for q in DOMAIN_QUEUES]
    conf["task_routes"] = {f"{q}.*": {"queue": q, "routing_key": q} for q in DOMAIN_QUEUES}
    conf["beat_schedule"] = _beat_schedule(conf)
    return conf


def _transport_options(settings: Settings) -> dict:
    if not settings.embedded_broker:
        return {"confirm_publish": True}
    spool = settings.var_dir / "broker"
    return {
        "data_folder_in": str(spool / "queue"),
        "data_folder_out": str(spool / "queue"),
        "processed_folder": str(spool / "claimed"),
        "control_folder": str(spool / "control"),
        "polling_interval": 0.02,
        # keep what no binding routes instead of dropping it
        "deadletter_queue": "unroutable",
    }


def _beat_schedule(conf: dict) -> dict:
    every = {"orchestration.relay_outbox": conf["outbox_relay_seconds"],
             "outbox.relay": conf["outbox_relay_seconds"],
             "tickets.expire_holds": conf["hold_sweep_seconds"],
             "orchestration.watchdog": conf["watchdog_seconds"]}
    names = ("relay-outbox", "relay-task-outbox", "expire-holds", "saga-watchdog")
    return {name: {"task": task, "schedule": float(seconds)}
            for name, (task, seconds) in zip(names, every.items())}
