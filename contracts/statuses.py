"""Every status vocabulary of boxoffice, each spelled once.

The values are the plain strings the API, the messages and the database hold: a
``StrEnum`` member *is* its string (``SagaStatus.PAID == "paid"``, JSON dumps it as
``"paid"``), so rows and messages written before these enums read the same. The tables
check their columns against these values (``check_in`` below, migration
``0010_status_enums``). Like every module of ``contracts``, this one imports nothing else
of boxoffice, so every layer may import it.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Iterable


class SagaStatus(StrEnum):
    """Where a purchase is: ``pending`` → ``reserved`` → ``paid`` → ``confirmed``, or
    ``compensating`` → ``canceled``; ``failed`` when a compensation could not finish."""

    PENDING = "pending"
    RESERVED = "reserved"
    PAID = "paid"
    CONFIRMED = "confirmed"
    COMPENSATING = "compensating"
    CANCELED = "canceled"
    FAILED = "failed"

    @classmethod
    def terminal(cls) -> tuple[SagaStatus, ...]:
        """The statuses a saga rests in (a ``SagaCompleted`` is published on reaching one)."""
        return (cls.CONFIRMED, cls.CANCELED, cls.FAILED)

    @classmethod
    def in_flight(cls) -> tuple[SagaStatus, ...]:
        """The statuses of a saga still under way: every status but the terminal ones."""
        return tuple(s for s in cls if s not in cls.terminal())

    @classmethod
    def purchasing(cls) -> tuple[SagaStatus, ...]:
        """In flight towards ``confirmed``: not yet being undone."""
        return tuple(s for s in cls.in_flight() if s is not cls.COMPENSATING)

    @classmethod
    def undoing(cls) -> tuple[SagaStatus, ...]:
        """Being undone or left for an operator: a late purchase step must do nothing."""
        return (cls.COMPENSATING, cls.CANCELED, cls.FAILED)

    @property
    def rank(self) -> int:
        """How far along the status is; a saga's status only ever moves to a higher rank."""
        return _SAGA_RANK[self]


_SAGA_RANK = {SagaStatus.PENDING: 0, SagaStatus.RESERVED: 1, SagaStatus.PAID: 2,
              SagaStatus.CONFIRMED: 3, SagaStatus.COMPENSATING: 3,
              SagaStatus.CANCELED: 4, SagaStatus.FAILED: 4}


class SagaReason(StrEnum):
    """Why a saga was canceled (or failed): the ``reason`` the API shows."""

    SOLD_OUT = "sold_out"
    PAYMENT_DECLINED = "payment_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    PAYMENT_UNAVAILABLE = "payment_unavailable"
    INVALID_REQUEST = "invalid_request"
    NOT_ON_SALE = "not_on_sale"
    HOLD_EXPIRED = "hold_expired"
    CANCELED = "canceled"
    CONFIRM_FAILED = "confirm_failed"
    STEP_FAILED = "step_failed"
    TIMED_OUT = "timed_out"
    BUYER_CANCELED = "buyer_canceled"
    EVENT_CANCELED = "event_canceled"
    OPERATOR_CANCELED = "operator_canceled"


class StepName(StrEnum):
    """The steps of a saga, in the order they run: purchase, then compensation."""

    RESERVE = "reserve"
    CHARGE = "charge"
    CONFIRM = "confirm"
    REFUND = "refund"
    RELEASE = "release"

    @classmethod
    def compensation(cls) -> tuple[StepName, ...]:
        return (cls.REFUND, cls.RELEASE)


class StepStatus(StrEnum):
    """How a recorded saga step ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"


class OutboxKind(StrEnum):
    """What a saga outbox message asks for."""

    PURCHASE = "purchase"
    COMPENSATE = "compensate"
    COMPLETED = "completed"


class EventStatus(StrEnum):
    DRAFT = "draft"
    ON_SALE = "on_sale"
    SOLD_OUT = "sold_out"
    CANCELED = "canceled"

    @classmethod
    def listed(cls) -> tuple[EventStatus, ...]:
        """The statuses the public catalogue shows."""
        return (cls.ON_SALE, cls.SOLD_OUT)

    @classmethod
    def settable(cls) -> tuple[EventStatus, ...]:
        """The statuses an organizer may set (canceling is its own request)."""
        return (cls.DRAFT, cls.ON_SALE, cls.SOLD_OUT)


class HoldStatus(StrEnum):
    """A saga's seats: ``held`` until ``confirmed``, ``released`` or ``expired``;
    ``refused`` (an empty hold) when there were not enough."""

    HELD = "held"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"
    REFUSED = "refused"

    @classmethod
    def given_back(cls) -> tuple[HoldStatus, ...]:
        """Holds whose seats are back on sale (or were never taken)."""
        return (cls.RELEASED, cls.EXPIRED, cls.REFUSED)


class TicketStatus(StrEnum):
    VALID = "valid"
    USED = "used"
    VOID = "void"


class PaymentKind(StrEnum):
    CHARGE = "charge"
    REFUND = "refund"


class PaymentStatus(StrEnum):
    """A payment row: a charge is claimed ``pending`` and settles ``succeeded`` or
    ``declined``, or is ``voided`` by a refund that came first; a refund waiting for its
    charge is ``requested``, then ``succeeded``."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    VOIDED = "voided"
    REQUESTED = "requested"


class ChargeOutcome(StrEnum):
    """The payment processor's record of a charge (its ledger)."""

    SUCCEEDED = "succeeded"
    DECLINED = "declined"


class SagaPayment(StrEnum):
    """What a saga's buyer paid, as the API shows it."""

    NONE = "none"
    PENDING = "pending"
    CHARGED = "charged"
    DECLINED = "declined"
    REFUNDED = "refunded"


#: every vocabulary above, for checks that must cover them all
VOCABULARIES = (SagaStatus, SagaReason, StepName, StepStatus, OutboxKind, EventStatus,
                HoldStatus, TicketStatus, PaymentKind, PaymentStatus, ChargeOutcome, SagaPayment)


def check_in(column: str, values: Iterable[str]) -> str:
    """The SQL condition that ``column`` holds one of ``values`` (an enum, or a set of
    its members), as a check constraint spells it."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in sorted(values))})"
