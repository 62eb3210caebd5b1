"""Why a saga was canceled, by the class name of the error that stopped it."""
import importlib
import inspect
from pathlib import Path

import pytest

import workers
from workers.orchestration.errors import NOTHING_RESERVED, REASONS, reason_for

WORKERS = Path(workers.__file__).resolve().parent


def _domain_exception_classes() -> dict[str, type]:
    """Every exception class defined in a ``workers/<domain>/errors.py``, by name."""
    found = {}
    modules = sorted(WORKERS.glob("*/errors.py"))
    assert len(modules) >= 4, modules
    for path in modules:
        module = importlib.import_module(f"workers.{path.parent.name}.errors")
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException)
                    and obj.__module__ == module.__name__):
                found[name] = obj
    return found


SPEC_REASONS = [
    ("SoldOut", "sold_out"),
    ("PaymentDeclined", "payment_declined"),
    ("UnknownPaymentToken", "payment_declined"),
    ("InsufficientFunds", "insufficient_funds"),
    ("PaymentProcessingError", "payment_unavailable"),
    ("PaymentUnavailable", "payment_unavailable"),
    ("TierNotFound", "invalid_request"),
    ("EventNotFound", "invalid_request"),
    ("EventNotOnSale", "not_on_sale"),
    ("HoldReleased", "hold_expired"),
    ("HoldExpired", "hold_expired"),
    ("OrderLimitExceeded", "invalid_request"),
    ("SagaCompensated", "canceled"),
    ("InjectedFault", "confirm_failed"),
]


@pytest.mark.parametrize("error_type, reason", SPEC_REASONS)
def test_reason_for_maps_a_domain_error_to_its_spec_reason(error_type, reason):
    assert reason_for(error_type) == reason


def test_the_expected_reasons_above_cover_every_error_of_reasons():
    assert sorted(e for e, _ in SPEC_REASONS) == sorted(REASONS)


@pytest.mark.parametrize("error_type", ["", "RuntimeError", "soldout", "SoldOutError", "Exception"])
def test_reason_for_an_unknown_error_is_step_failed(error_type):
    assert reason_for(error_type) == "step_failed"


def test_every_error_name_in_reasons_is_a_real_exception_class_of_a_worker_domain():
    classes = _domain_exception_classes()

    missing = sorted(set(REASONS) - set(classes))

    assert not missing, f"REASONS names no exception class in workers/*/errors.py: {missing}"


def test_every_error_that_leaves_nothing_reserved_is_a_real_exception_class():
    classes = _domain_exception_classes()

    assert not sorted(NOTHING_RESERVED - set(classes))


def test_errors_that_leave_nothing_reserved_all_have_a_specific_reason():
    assert all(reason_for(name) != "step_failed" for name in NOTHING_RESERVED)


def test_exception_class_names_are_unique_across_domains_so_a_name_maps_one_class():
    names = []
    for path in sorted(WORKERS.glob("*/errors.py")):
        module = importlib.import_module(f"workers.{path.parent.name}.errors")
        names += [n for n, o in vars(module).items()
                  if inspect.isclass(o) and issubclass(o, BaseException)
                  and o.__module__ == module.__name__]

    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
