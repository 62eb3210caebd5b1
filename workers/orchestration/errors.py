"""Refusals of the orchestration domain."""
from contracts.statuses import SagaReason
from workers.steps import DomainError


class IdempotencyConflict(DomainError):
    """The Idempotency-Key was already used with a different request."""


class SagaNotFound(DomainError):
    pass


class SagaFinished(DomainError):
    """An operator asked to re-drive a saga that is already confirmed or canceled."""


class SagaAlreadyConfirmed(DomainError):
    """A buyer asked to cancel a purchase that is already confirmed."""


class PurchaseCapReached(DomainError):
    """The buyer has as many purchases (or seats) in flight as allowed."""


def reason_of(error: BaseException) -> SagaReason | None:
    """Why a saga stopped by ``error`` is canceled: each refusal's class declares it
    (``reason``, inherited: ``InsufficientFunds`` says more than ``PaymentDeclined``),
    so the reason travels with the step's failure (``StepFailed.reason``)."""
    reason = getattr(type(error), "reason", None)
    return reason if isinstance(reason, SagaReason) else None


def reason_for(failure: dict) -> SagaReason:
    """The reason a ``StepFailed`` gives; ``step_failed`` when its error named none."""
    return SagaReason(failure.get("reason") or SagaReason.STEP_FAILED)


#: reasons of a refused reserve step that took nothing (no seats, nothing to undo): the
#: refusals that come before any seat is taken (tier, event, sale window, order size)
NOTHING_RESERVED = frozenset({SagaReason.SOLD_OUT, SagaReason.INVALID_REQUEST,
                              SagaReason.NOT_ON_SALE})
