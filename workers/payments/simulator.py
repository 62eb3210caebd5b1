"""A payment processor simulator speaking Stripe's test tokens.

``tok_visa`` succeeds; ``tok_chargeDeclined`` is declined;
``tok_chargeDeclinedInsufficientFunds`` is declined for insufficient funds;
``tok_processingError`` fails transiently, every time. Any other token is declined.
With fault injection on (tests only), ``tok_visa_delay_<ms>`` is ``tok_visa`` answering
after ``<ms>`` milliseconds.
"""
import time

from workers.payments.errors import (
    InsufficientFunds, PaymentDeclined, PaymentProcessingError, UnknownPaymentToken,
)

OUTCOMES = {
    "tok_visa": None,
    "tok_mastercard": None,
    "tok_chargeDeclined": PaymentDeclined("card_declined"),
    "tok_chargeDeclinedInsufficientFunds": InsufficientFunds("insufficient_funds"),
    "tok_processingError": PaymentProcessingError("processing_error"),
}


SLOW_TOKEN_PREFIX = "tok_visa_delay_"


def authorize(token: str, amount_cents: int, *, latency_ms: int = 0,
              slow_tokens: bool = False) -> None:
    """Return if the processor captures ``amount_cents`` on ``token``, else raise."""
    if slow_tokens and token.startswith(SLOW_TOKEN_PREFIX):
        latency_ms, token = int(token[len(SLOW_TOKEN_PREFIX):] or 0), "tok_visa"
    if latency_ms:
        time.sleep(latency_ms / 1000)
    if token not in OUTCOMES:
        raise UnknownPaymentToken(f"unknown payment token {token[:12]!r}")
    failure = OUTCOMES[token]
    if failure is not None:
        raise type(failure)(*failure.args)
