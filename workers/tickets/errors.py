"""Refusals of the tickets domain."""
from __future__ import annotations

import uuid
from datetime import datetime

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


class UnknownTicketCode(DomainError):
    """The code is not one we signed (forged, mistyped, unsigned), or names no ticket."""


class TicketAlreadyUsed(DomainError):
    """The ticket was checked in before; ``used_at`` says when."""

    def __init__(self, ticket_id: uuid.UUID, used_at: datetime):
        super().__init__(f"this ticket was already checked in at {used_at.isoformat()}")
        self.ticket_id, self.used_at = ticket_id, used_at


class TicketVoid(DomainError):
    """The ticket's purchase was canceled: it admits no one."""


class TicketForAnotherEvent(DomainError):
    pass
