"""The base of every saga step task: contract validation, timing and error mapping.

A task validates its contract, calls its domain service and maps errors: a message that
is not the contract is rejected without requeue (dead-lettered) and the worker keeps
going; transient infrastructure errors are retried with backoff and jitter; a domain
refusal fails the task, which lets the chain's error callback compensate.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import ClassVar

from celery import Task
from celery.exceptions import Reject
from celery.utils.time import get_exponential_backoff_interval
from marshmallow import ValidationError
from kombu.exceptions import OperationalError as BrokerUnavailable
from sqlalchemy.exc import InterfaceError, OperationalError

from contracts.statuses import SagaReason
from workers import runtime

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


#: called with the outcome of every saga step, after the step committed, in the worker
#: that ran it (see ``record_outcomes_with``)
_outcome_recorders: list = []


def record_outcomes_with(recorder) -> None:
    """Have ``recorder(outcome)`` called with each step's outcome event before the chain
    goes on: the saga record follows its steps without a message of its own."""
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

    @property
    def max_retries(self) -> int:
        return runtime.settings().step_max_retries

    @property
    def retry_backoff_max(self) -> int:
        return runtime.settings().step_retry_backoff_max

    def retry(self, args=None, kwargs=None, exc=None, throw=True, eta=None, countdown=None,
              max_retries=None, **options):
        """Celery's retry, after an exponential backoff with full jitter unless told when."""
        if eta is None and countdown is None:
            countdown = get_exponential_backoff_interval(
                factor=self.backoff_factor, retries=self.request.retries,
                maximum=self.retry_backoff_max, full_jitter=self.retry_jitter)
        return super().retry(args, kwargs, exc, throw, eta, countdown, max_retries, **options)

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
        outcome = self.run(*messages)
        if self.step_name is not None and isinstance(outcome, dict):
            self._record(outcome)
        return outcome

    def _record(self, outcome: dict) -> None:
        """Record the outcome; if that fails for now, the step is retried as a whole (it
        is idempotent), so that no outcome goes unrecorded."""
        try:
            for recorder in _outcome_recorders:
                recorder(outcome)
        except TRANSIENT as exc:
            raise self.retry(exc=exc)

    def timing(self) -> dict:
        """The timing of the running step, for its outcome event."""
        return {
            "name": self.step_name,
            "started_at": self.request.step_started_at,
            "finished_at": utcnow(),
            "attempts": self.request.retries + 1,
        }
