"""The Celery application of every worker process, configured from the settings by the
composition root (workers/bootstrap.py).

Every worker imports every domain's tasks, whichever queue it consumes: an error
callback of a chain runs inside the worker whose task failed, so that worker must
know it.
"""
import logging

from celery import Celery
from celery import concurrency
from celery.concurrency.prefork import TaskPool as PreforkPool
from celery.signals import after_setup_logger, worker_init, worker_process_init

from workers import consumer, logs, spool, telemetry  # noqa: F401  dead letters; logs
from workers.db import dispose_engine

app = Celery(
    "boxoffice",
    amqp="workers.masking:MaskingAMQP",  # reprs of arguments masked (the root may swap it)
    include=[
        "workers.tickets.tasks",
        "workers.tickets.checkin_tasks",
        "workers.payments.tasks",
        "workers.orchestration.tasks",
        "workers.users.tasks",
        "workers.outbox_tasks",
    ],
)


@worker_process_init.connect
def _fresh_connections_after_fork(**_):
    # A forked child must never reuse the parent's database connections.
    dispose_engine()
    telemetry.setup("boxoffice-worker")


@worker_init.connect
def _tracing_where_tasks_run(sender=None, **_):
    """A worker that runs its tasks itself (the solo and threads pools) traces them from
    its own process; a prefork pool's children set tracing up after their fork."""
    pool = concurrency.get_implementation(getattr(sender, "pool_cls", None) or "prefork")
    if not (isinstance(pool, type) and issubclass(pool, PreforkPool)):
        telemetry.setup("boxoffice-worker")


@after_setup_logger.connect
def _task_lines_at_debug(loglevel=None, **_):
    """Celery logs two lines per task at INFO (received, succeeded): in the hot path they
    cost more than the task's own work. They show at DEBUG, or with
    ``CELERY_TASK_LOG_LINES=true``; our own lines (warnings, errors) always do."""
    if app.conf.get("task_log_lines") or (loglevel is not None and loglevel <= logging.DEBUG):
        return
    for name in ("celery.worker.strategy", "celery.app.trace"):
        logging.getLogger(name).setLevel(logging.WARNING)
