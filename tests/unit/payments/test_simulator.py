"""The payment simulator answers Stripe's test tokens as Stripe would."""
import pytest

from workers.payments import simulator
from workers.payments.errors import (
    InsufficientFunds, PaymentDeclined, PaymentProcessingError, UnknownPaymentToken,
)
from workers.steps import DomainError, TransientError


@pytest.mark.parametrize("token", ["tok_visa", "tok_mastercard"])
def test_charge_succeeds_for_a_good_card_token(token):
    assert simulator.authorize(token, 5000) is None


def test_charge_is_declined_for_tok_chargeDeclined():
    with pytest.raises(PaymentDeclined) as err:
        simulator.authorize("tok_chargeDeclined", 5000)

    assert type(err.value) is PaymentDeclined
    assert err.value.args == ("card_declined",)


def test_charge_fails_for_insufficient_funds_with_tok_chargeDeclinedInsufficientFunds():
    with pytest.raises(InsufficientFunds) as err:
        simulator.authorize("tok_chargeDeclinedInsufficientFunds", 5000)

    assert err.value.args == ("insufficient_funds",)


def test_insufficient_funds_is_a_kind_of_decline_and_a_final_domain_error():
    assert issubclass(InsufficientFunds, PaymentDeclined)
    assert issubclass(PaymentDeclined, DomainError)
    assert not issubclass(PaymentDeclined, TransientError)


def test_tok_processingError_fails_transiently_so_the_step_is_retried():
    with pytest.raises(PaymentProcessingError) as err:
        simulator.authorize("tok_processingError", 5000)

    assert isinstance(err.value, TransientError)
    assert not isinstance(err.value, DomainError)


def test_tok_processingError_fails_every_time():
    for _ in range(3):
        with pytest.raises(PaymentProcessingError):
            simulator.authorize("tok_processingError", 5000)


@pytest.mark.parametrize("token", ["tok_unknown", "", "TOK_VISA", "tok_visa "])
def test_charge_is_declined_for_an_unknown_token(token):
    with pytest.raises(UnknownPaymentToken) as err:
        simulator.authorize(token, 5000)

    assert isinstance(err.value, PaymentDeclined)


def test_unknown_token_error_quotes_at_most_12_characters_of_the_token():
    secret_tail = "SECRETSECRETSECRET"
    with pytest.raises(UnknownPaymentToken) as err:
        simulator.authorize("tok_" + "x" * 8 + secret_tail, 5000)

    assert "SECRET" not in str(err.value)


def test_each_failure_raises_a_fresh_exception_not_the_shared_template():
    raised = []
    for _ in range(2):
        with pytest.raises(PaymentDeclined) as err:
            simulator.authorize("tok_chargeDeclined", 5000)
        raised.append(err.value)

    assert raised[0] is not raised[1]
    assert raised[0] is not simulator.OUTCOMES["tok_chargeDeclined"]
