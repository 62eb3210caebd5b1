"""Refusals of the orchestration domain."""
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


#: why a saga was canceled, by the class name of the error that stopped it
REASONS = {
    "SoldOut": "sold_out",
    "PaymentDeclined": "payment_declined",
    "UnknownPaymentToken": "payment_declined",
    "InsufficientFunds": "insufficient_funds",
    "PaymentProcessingError": "payment_unavailable",
    "PaymentUnavailable": "payment_unavailable",
    "TierNotFound": "invalid_request",
    "EventNotFound": "invalid_request",
    "EventNotOnSale": "not_on_sale",
    "HoldReleased": "hold_expired",
    "HoldExpired": "hold_expired",
    "OrderLimitExceeded": "invalid_request",
    "SagaCompensated": "canceled",
    "InjectedFault": "confirm_failed",
}
#: errors of the reserve step that leave nothing reserved, so nothing to undo
NOTHING_RESERVED = {"SoldOut", "TierNotFound", "EventNotFound", "EventNotOnSale",
                    "OrderLimitExceeded"}


def reason_for(error_type: str) -> str:
    return REASONS.get(error_type, "step_failed")
