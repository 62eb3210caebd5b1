"""The base of every saga step task: contract validation, timing and error mapping.

A task validates its contract, calls its domain service and maps errors: a message that
is not the contract is rejected without requeue (dead-lettered) and the worker keeps
going; transient infrastructure errors are retried with backoff and jitter; a domain
refusal fails the task, which lets the chain's error callback compensate.
"""
from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime, timezone
from typing import ClassVar

from celery import Task
from celery.exceptions import Reject, Retry
from celery.utils.time import get_exponential_backoff_interval
from marshmallow import ValidationError
from kombu.exceptions import OperationalError as BrokerUnavailable
from sqlalchemy.exc import InterfaceError, OperationalError

from contracts.statuses import SagaReason
from workers import db, runtime

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business refusal: final, never retried, named by its class."""

    #: why a saga this refusal stops is canceled (``step_failed`` when ``None``)
    reason: ClassVar[SagaReason | None] = None


class TransientError(Exception):
    """Something outside us failed for now; retrying may succeed."""

    #: why a saga is canceled if this failure outlasts its retries
    reason: ClassVar[SagaReason | None] = None


TRANSIENT = (TransientError, OperationalError, InterfaceError, BrokerUnavailable)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


#: called with the outcome of every saga step and the step's open transaction, in the
#: worker that ran it (see ``record_outcomes_with``)
_outcome_recorders: list = []


#: called with every refusal of a saga step and the step's open transaction (see
#: ``record_refusals_with``)
_refusal_recorders: list = []


def record_refusals_with(recorder) -> None:
    """Have ``recorder(task, refusal, session)`` called with each refusal (a
    ``DomainError``) of a saga step inside the step's own transaction, behind a savepoint,
    before it commits: the saga learns of it with no transaction of its own. It may return
    a callable, called once committed. A refusal so recorded is marked ``recorded``: the
    chain's error callback has nothing left to do. If recording fails, nothing of it is
    kept and the error callback handles the refusal as before."""
    if recorder not in _refusal_recorders:
        _refusal_recorders.append(recorder)


def record_outcomes_with(recorder) -> None:
    """Have ``recorder(outcome, session)`` called with each step's outcome event inside
    the step's own transaction, before it commits and the chain goes on: the saga record
    follows its steps without a message or a transaction of its own. It may return a
    callable, called once that transaction has committed (to publish what it owes)."""
    if recorder not in _outcome_recorders:
        _outcome_recorders.append(recorder)


class ContractTask(Task):
    """A task whose positional arguments are messages of the given contracts."""

    abstract = True
    contracts: tuple = ()
    #: the saga step this task performs (``None`` for bookkeeping tasks)
    step_name: str | None = None

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT
    #: Celery's own backoff would fix its maximum when the task is made: ``retry`` applies
    #: ours, with the maximum and the retry count of the settings the process runs with
    retry_backoff = False
    backoff_factor = 2
    retry_jitter = True
    throws = (DomainError,)
    #: Celery reprs every result for its success line (logged at DEBUG only): keep it short
    resultrepr_maxsize = 200

    @property
    def max_retries(self) -> int:
        return runtime.settings().step_max_retries

    @property
    def retry_backoff_max(self) -> int:
        return runtime.settings().step_retry_backoff_max

    def retry(self, args=None, kwargs=None, exc=None, throw=True, eta=None, countdown=None,
              max_retries=None, **options):
        """Celery's retry, after an exponential backoff with full jitter unless told when:
        never sooner than a second (full jitter draws 0 too, an immediate retry that
        spends an attempt on the same outage, or on a charge still in flight)."""
        if eta is None and countdown is None:
            countdown = max(1, get_exponential_backoff_interval(
                factor=self.backoff_factor, retries=self.request.retries,
                maximum=self.retry_backoff_max, full_jitter=self.retry_jitter))
        try:
            return super().retry(args, kwargs, exc, throw, eta, countdown, max_retries, **options)
        finally:
            # Celery keeps an explicit ``max_retries`` on the task (``override_max_retries``)
            # for its next automatic retry, of whatever delivery: it is this call's only
            self.__dict__.pop("override_max_retries", None)

    def __call__(self, *args, **kwargs):
        try:
            if kwargs or len(args) != len(self.contracts):
                raise ValidationError(
                    f"{self.name} takes {len(self.contracts)} message(s), "
                    f"got {len(args)} positional and {sorted(kwargs)} keyword"
                )
            messages = [c.parse(a) for c, a in zip(self.contracts, args)]
            if len({m["saga_id"] for m in messages if "saga_id" in m}) > 1:
                raise ValidationError("messages of one step name different sagas")
        except ValidationError as exc:
            log.error("dead-lettering invalid %s message: %s", self.name, exc)
            raise Reject(f"invalid message: {exc}", requeue=False) from exc
        self.request.step_started_at = utcnow()
        # Not Task.__call__: it would push a fresh request without the delivery's id
        # and retry count, which retries and timing need.
        if self.step_name is None:
            return self.run(*messages)
        return self._run_step(messages)

    def _run_step(self, messages):
        """Run the step and record its outcome in ONE transaction: the domain's
        ``step_transaction`` blocks and the recorders share it, and it commits once. What
        a block kept before the step refused (a refused hold, an expiry) is committed
        before the refusal is raised, as if the block had committed it."""
        with db.one_step_transaction() as scope:
            try:
                outcome = self.run(*messages)
            except Retry:
                try:  # a retry is on its way already: it redoes what does not commit now
                    db.commit_step(scope)
                except TRANSIENT:
                    log.warning("%s: a retry's transaction did not commit", self.name)
                raise
            except DomainError as refusal:
                _call_all(self._commit(scope, outcome=None, refusal=refusal))
                raise
            except BaseException:
                self._commit(scope, outcome=None)
                raise
            after_commit = self._commit(scope, outcome)
        _call_all(after_commit)
        return outcome

    def _commit(self, scope: dict, outcome, refusal: DomainError | None = None) -> list:
        """Record the outcome (or the refusal) in the step's transaction and commit; if
        that fails for now, the step is retried as a whole (it is idempotent), so no
        outcome goes unrecorded. What to call once committed. A refusal decided at the
        commit (``db.decide_last``) is recorded before it, and raised after."""
        after = []
        try:
            if refusal is not None:
                after = self._refused_in(refusal)
            elif isinstance(outcome, dict) and "contract" in outcome and _outcome_recorders:
                with db.step_transaction() as s:
                    after = [recorder(outcome, s) for recorder in _outcome_recorders]
            db.commit_step(scope, on_refusal=lambda s, r: after.extend(self._refused_in(r, s)))
        except TRANSIENT as exc:
            raise self.retry(exc=exc)
        except DomainError:
            _call_all(after)
            raise
        return after

    def _refused_in(self, refusal: DomainError, s=None) -> list:
        """Have the refusal recorded in the step's transaction (``s``, or the step's own),
        behind a savepoint; what to call once committed."""
        if self.step_name is None or not _refusal_recorders:
            return []
        with nullcontext(s) if s is not None else db.step_transaction() as s:
            try:
                with s.begin_nested():
                    after = [recorder(self, refusal, s) for recorder in _refusal_recorders]
            except TRANSIENT:
                raise
            except Exception:  # noqa: BLE001  the chain's error callback handles it instead
                log.warning("%s: its refusal is left to the error callback", self.name,
                            exc_info=True)
                return []
        refusal.recorded = True
        return [f for f in after if f is not None]

    def timing(self) -> dict:
        """The timing of the running step, for its outcome event."""
        return {
            "name": self.step_name,
            "started_at": self.request.step_started_at,
            "finished_at": utcnow(),
            "attempts": self.request.retries + 1,
        }


def _call_all(callables) -> None:
    for f in callables:
        if f is not None:
            f()
