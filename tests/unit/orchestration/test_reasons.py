"""Why a saga was canceled, by the class of the error that stopped it."""
import importlib
import inspect

import pytest
from sqlalchemy.exc import OperationalError

from contracts import REGISTRY, StepFailed
from contracts.statuses import SagaReason
from tests.unit.orchestration.support import WORKERS, domain_errors
from workers.orchestration.errors import NOTHING_RESERVED, reason_for, reason_of
from workers.payments.errors import (
    InsufficientFunds, PaymentDeclined, PaymentProcessingError, PaymentUnavailable,
    SagaCompensated, UnknownPaymentToken,
)
from workers.steps import utcnow
from workers.tickets.errors import (
    EventNotFound, EventNotOnSale, HoldLapsed, HoldReleased, InjectedFault, OrderLimitExceeded,
    SoldOut, TierNotFound,
)

SPEC_REASONS = {
    SoldOut: "sold_out",
    PaymentDeclined: "payment_declined",
    UnknownPaymentToken: "payment_declined",
    InsufficientFunds: "insufficient_funds",
    PaymentProcessingError: "payment_unavailable",
    PaymentUnavailable: "payment_unavailable",
    TierNotFound: "invalid_request",
    EventNotFound: "invalid_request",
    EventNotOnSale: "not_on_sale",
    HoldReleased: "hold_expired",
    HoldLapsed: "hold_expired",
    OrderLimitExceeded: "invalid_request",
    SagaCompensated: "canceled",
    InjectedFault: "confirm_failed",
}
def _declared(error_class):
    return reason_of(error_class.__new__(error_class))


#: the refusals of the reserve step that come before any seat is taken
TAKE_NOTHING = (SoldOut, TierNotFound, EventNotFound, EventNotOnSale, OrderLimitExceeded)


@pytest.mark.parametrize("error, reason", SPEC_REASONS.items(), ids=lambda e: getattr(e, "__name__", e))
def test_each_domain_error_class_gives_its_spec_reason(error, reason):
    assert reason_of(error("no")) == reason


def test_every_domain_error_with_a_reason_is_one_of_the_spec_reasons_above():
    with_reason = {cls for cls in domain_errors().values() if _declared(cls) is not None}

    assert with_reason == set(SPEC_REASONS)


@pytest.mark.parametrize("error", [RuntimeError("x"), KeyError("SoldOut"), OperationalError("s", {}, None)])
def test_an_error_that_declares_no_reason_gives_none(error):
    assert reason_of(error) is None


def _failure(**fields):
    return StepFailed.parse(StepFailed.build(
        saga_id="00000000-0000-0000-0000-000000000001", step="charge", error_type="X",
        message="no", attempts=1, failed_at=utcnow(), **fields))


def test_a_step_failure_carries_its_reason_and_one_without_is_step_failed():
    assert reason_for(_failure(reason=reason_of(InsufficientFunds("x")))) == "insufficient_funds"
    assert reason_for(_failure(reason=None)) == SagaReason.STEP_FAILED
    assert reason_for(_failure()) == SagaReason.STEP_FAILED  # a message of an earlier version


def test_the_refusals_that_take_nothing_are_exactly_those_whose_reason_says_so():
    nothing = {cls for cls in domain_errors().values() if _declared(cls) in NOTHING_RESERVED}

    assert nothing == set(TAKE_NOTHING)


def test_exception_class_names_are_unique_across_domains_and_contracts():
    """A name means one thing: no error is named like another error or a message."""
    names = []
    for path in sorted(WORKERS.glob("*/errors.py")):
        module = importlib.import_module(f"workers.{path.parent.name}.errors")
        names += [n for n, o in vars(module).items()
                  if inspect.isclass(o) and issubclass(o, BaseException)
                  and o.__module__ == module.__name__]

    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert not set(names) & set(REGISTRY), "an error named like a message contract"
