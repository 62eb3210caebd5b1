"""Refusals of the tickets domain."""
from contracts.statuses import SagaReason
from workers.steps import DomainError


class EventNotFound(DomainError):
    reason = SagaReason.INVALID_REQUEST


class TierNotFound(DomainError):
    reason = SagaReason.INVALID_REQUEST


class EventNotOnSale(DomainError):
    reason = SagaReason.NOT_ON_SALE


class SoldOut(DomainError):
    reason = SagaReason.SOLD_OUT


class HoldNotFound(DomainError):
    pass


class HoldReleased(DomainError):
    """Confirm arrived for seats already given back."""

    reason = SagaReason.HOLD_EXPIRED


class InjectedFault(DomainError):
    """A failure injected on purpose (fault-injection builds only)."""

    reason = SagaReason.CONFIRM_FAILED


class NotAllowed(DomainError):
    pass


class HoldLapsed(DomainError):
    """The seats' hold ran out before the purchase was confirmed (the saga learns it from
    this refusal, or from the ``HoldExpired`` message the sweeper sends)."""

    reason = SagaReason.HOLD_EXPIRED


class OrderLimitExceeded(DomainError):
    """More seats in one order than the tier allows."""

    reason = SagaReason.INVALID_REQUEST


class EventStatusConflict(DomainError):
    """A change the event's lifecycle does not allow (a canceled event is final)."""
