"""The base of every saga step task: contract validation, timing and error mapping.

A task validates its contract, calls its domain service and maps errors: a message that
is not the contract is rejected without requeue (dead-lettered) and the worker keeps
going; transient infrastructure errors are retried with backoff and jitter; a domain
refusal fails the task, which lets the chain's error callback compensate.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from celery import Task
from celery.exceptions import Reject
from marshmallow import ValidationError
from kombu.exceptions import OperationalError as BrokerUnavailable
from sqlalchemy.exc import InterfaceError, OperationalError

from settings import get_settings

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business refusal: final, never retried, named by its class."""


class TransientError(Exception):
    """Something outside us failed for now; retrying may succeed."""


TRANSIENT = (TransientError, OperationalError, InterfaceError, BrokerUnavailable)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ContractTask(Task):
    """A task whose positional arguments are messages of the given contracts."""

    abstract = True
    contracts: tuple = ()
    #: the saga step this task performs (``None`` for bookkeeping tasks)
    step_name: str | None = None

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT
    retry_backoff = 2
    retry_backoff_max = get_settings().step_retry_backoff_max
    retry_jitter = True
    max_retries = get_settings().step_max_retries
    throws = (DomainError,)

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
        return self.run(*messages)

    def timing(self) -> dict:
        """The timing of the running step, for its outcome event."""
        return {
            "name": self.step_name,
            "started_at": self.request.step_started_at,
            "finished_at": utcnow(),
            "attempts": self.request.retries + 1,
        }
