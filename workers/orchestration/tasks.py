"""Celery tasks of the orchestration domain."""
import logging
import uuid

from marshmallow import ValidationError

from contracts import (
    CancelEventSagas, HoldExpired, PaymentCaptured, PaymentRefunded, SeatsConfirmed, SeatsReleased, SeatsReserved, StepFailed,
)
from workers.celery_app import app
from workers.orchestration import completion, recording, service, watchdog
from workers.orchestration.errors import reason_of
from workers.steps import (
    TRANSIENT, ContractTask, record_outcomes_with, record_refusals_with, utcnow,
)

log = logging.getLogger(__name__)


class StepOutcome:
    """Any outcome event of a saga step, told apart by its contract name."""

    KINDS = {c.name: c for c in (SeatsReserved, PaymentCaptured, SeatsConfirmed,
                                 PaymentRefunded, SeatsReleased)}

    @classmethod
    def parse(cls, message):
        kind = message.get("contract") if isinstance(message, dict) else None
        if kind not in cls.KINDS:
            raise ValidationError(f"not a step outcome: {kind!r}")
        return cls.KINDS[kind].parse(message)


def _record(outcome: dict, s):
    """Record a step's outcome in the step's transaction ``s``. Nothing to publish after
    the commit: a ``SagaCompleted`` it wrote goes with the relay's next batch."""
    if outcome.get("contract") in StepOutcome.KINDS:  # loaded already if built here
        loaded = getattr(outcome, "loaded", None)
        recording.record_outcome_in(s, loaded if loaded is not None else StepOutcome.parse(outcome))


def _saga_of(request):
    """The saga id a step's delivery names in its first message, or ``None``."""
    message = request.args[0] if request.args else None
    return message.get("saga_id") if isinstance(message, dict) else None


def _failure(saga_id, step: str, exc: BaseException, retries: int) -> dict:
    """The fields of the ``StepFailed`` of a step that raised ``exc``."""
    return dict(saga_id=saga_id, step=step, error_type=type(exc).__name__,
                reason=reason_of(exc), message=str(exc)[:500], attempts=retries + 1,
                failed_at=utcnow())


def _record_refusal(task, refusal, s):
    """Handle a step's refusal in the step's transaction ``s``, as ``step_failed`` would
    (cancel, or start the compensation through the outbox); what to publish after."""
    saga_id = _saga_of(task.request)
    if saga_id is None:
        return None
    return service.step_failure_in(s, _failure(uuid.UUID(str(saga_id)), task.step_name,
                                               refusal, task.request.retries))


# Every worker imports this module: each records the outcomes and the refusals of the
# steps it runs.
record_outcomes_with(_record)
record_refusals_with(_record_refusal)


@app.task(base=ContractTask, name="orchestration.record_step", contracts=(StepOutcome,),
          max_retries=None)
def record_step(event):
    """An outcome sent as a message (canvases of earlier versions still in a queue)."""
    service.record_outcome(event)


@app.task(base=ContractTask, name="orchestration.step_failed", contracts=(StepFailed,),
          max_retries=None)
def step_failed(failure):
    service.handle_step_failure(failure)


@app.task(base=ContractTask, name="orchestration.hold_expired", contracts=(HoldExpired,),
          max_retries=None)
def hold_expired(notice):
    service.handle_hold_expired(notice["saga_id"])


@app.task(base=ContractTask, name="orchestration.cancel_event_sagas",
          contracts=(CancelEventSagas,), max_retries=None)
def cancel_event_sagas(cmd):
    """One batch; the next batch is a new message (written with this one's changes), so a
    long cancelation never blocks."""
    service.cancel_sagas_of_event(cmd["event_id"], after=cmd["after"])


@app.task(name="orchestration.on_step_failed")
def on_step_failed(request, exc, traceback):
    """Error callback of every saga canvas; runs inside the worker whose step failed.

    A refusal (a domain error) is handled here, as an outcome is recorded where its step
    ran (cancel, or start the compensation through the outbox); if that cannot be done
    now, or the step failed because the broker or the database did, the failure is handed
    to the orchestration queue, where it is retried until it is handled.
    """
    task = app.tasks.get(request.task)
    step = getattr(task, "step_name", None)
    saga_id = _saga_of(request)
    if step is None or saga_id is None:
        log.error("task %s[%s] failed outside a saga step: %r", request.task, request.id, exc)
        return
    log.info("saga %s: step %s failed: %s: %s", saga_id, step, type(exc).__name__, exc)
    if getattr(exc, "recorded", False):  # handled in the step's own transaction
        return
    failure = StepFailed.build(**_failure(saga_id, step, exc, request.retries))
    if isinstance(exc, TRANSIENT):
        # The broker or the database failed, not the step: decided in the orchestration
        # queue as before (and, if the broker is down, by the watchdog), never here.
        step_failed.apply_async((failure,))
        return
    try:
        service.handle_step_failure(StepFailed.parse(failure))
    except Exception:  # noqa: BLE001  the orchestration queue keeps it and retries
        log.warning("saga %s: step %s failed; handing it to the orchestration queue",
                    saga_id, step, exc_info=True)
        step_failed.apply_async((failure,))


@app.task(name="orchestration.relay_outbox", acks_late=True)
def relay_outbox():
    """Send the ``SagaCompleted`` events in batches (one, unless more than a batch is
    due), then the other messages that were not sent at commit."""
    for _ in range(10):  # a backlog drains over a few periods, a batch at a time
        if completion.relay_completed(batch=completion.BATCH) < completion.BATCH:
            break
    sent = service.relay_outbox()
    if sent:
        log.warning("relayed %d outbox message(s) not sent at commit", sent)
    return sent


@app.task(name="orchestration.watchdog", acks_late=True, ignore_result=True)
def redrive_stuck_sagas():
    """Re-drive sagas that made no progress for too long (run by beat)."""
    return watchdog.redrive_overdue()
