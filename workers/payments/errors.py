"""Refusals and transient failures of the payments domain."""
from workers.steps import DomainError, TransientError


class PaymentDeclined(DomainError):
    pass


class InsufficientFunds(PaymentDeclined):
    pass


class PaymentProcessingError(TransientError):
    """The processor failed this time; the charge did not happen."""


class PaymentUnavailable(DomainError):
    """The processor kept failing transiently for the whole retry budget: give up."""


class UnknownPaymentToken(PaymentDeclined):
    pass


class SagaCompensated(DomainError):
    """The saga was compensated before its charge: it must never be charged."""


class ChargeInFlight(TransientError):
    """A refund found the charge still being processed; it waits for the outcome."""
