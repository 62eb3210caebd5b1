"""Refusals and transient failures of the payments domain."""
from workers.steps import DomainError, TransientError


class PaymentDeclined(DomainError):
    pass


class InsufficientFunds(PaymentDeclined):
    pass


class PaymentProcessingError(TransientError):
    """The processor failed this time; the charge did not happen."""


class UnknownPaymentToken(PaymentDeclined):
    pass
