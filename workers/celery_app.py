"""The Celery application: the composition root of every worker process.

Every worker imports every domain's tasks, whichever queue it consumes: an error
callback of a chain runs inside the worker whose task failed, so that worker must
know it.
"""
from celery import Celery
from celery.signals import worker_process_init

from settings import get_settings
from workers import consumer, logs, masking, spool, telemetry  # noqa: F401  dead letters; logs; masked reprs
from workers.db import dispose_engine

app = Celery(
    "boxoffice",
    amqp="workers.faults:DuplicatingAMQP" if get_settings().duplicate_publish else None,
    include=[
        "workers.tickets.tasks",
        "workers.tickets.checkin_tasks",
        "workers.payments.tasks",
        "workers.orchestration.tasks",
        "workers.users.tasks",
        "workers.outbox_tasks",
    ],
)
app.config_from_object("celeryconfig")


@worker_process_init.connect
def _fresh_connections_after_fork(**_):
    # A forked child must never reuse the parent's database connections.
    dispose_engine()
    telemetry.setup("boxoffice-worker")
