"""Refusals and transient failures of the payments domain."""
from contracts.statuses import SagaReason
from workers.steps import DomainError, TransientError


class PaymentDeclined(DomainError):
    reason = SagaReason.PAYMENT_DECLINED


class InsufficientFunds(PaymentDeclined):
    reason = SagaReason.INSUFFICIENT_FUNDS


class PaymentProcessingError(TransientError):
    """The processor failed this time; the charge did not happen."""

    reason = SagaReason.PAYMENT_UNAVAILABLE


class PaymentUnavailable(DomainError):
    """The processor kept failing transiently for the whole retry budget: give up."""

    reason = SagaReason.PAYMENT_UNAVAILABLE


class UnknownPaymentToken(PaymentDeclined):
    pass


class SagaCompensated(DomainError):
    """The saga was compensated before its charge: it must never be charged."""

    reason = SagaReason.CANCELED


class ChargeInFlight(TransientError):
    """A refund found the charge still being processed; it waits for the outcome."""

    def __init__(self, message: str, claimed_at=None):
        super().__init__(message)
        #: when the charge was claimed (or last taken over), if the refund saw the claim
        self.claimed_at = claimed_at
