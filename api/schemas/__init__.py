"""Request and response shapes of the HTTP API (they also make the OpenAPI document), by
area: ``base`` (what they are built from), ``users``, ``events``, ``sales``, ``sagas`` and
``tickets``; every one is importable from here (``from api.schemas import EventIn``).

Requests are strict: a field a schema does not declare is refused (422 naming it), in
bodies and query strings alike (``api.parsing``), and a body's integers must be JSON
integers (``2.9`` and ``"1"`` are refused, not rounded or parsed).
"""
from api.schemas.base import Currency, Int, PageArgs, StrictSchema
from api.schemas.events import (
    EVENT_STATUSES, EventIn, EventListArgs, EventOptions, EventOut, EventPage, EventPatch,
    TierIn, TierOut, TierPatch,
)
from api.schemas.sagas import (
    PaymentOut, SagaListArgs, SagaOut, SagaPage, StartPurchaseIn, StartPurchaseOut, StepOut,
    TicketRef,
)
from api.schemas.sales import EventSalesOut, TierSalesOut
from api.schemas.tickets import CheckInIn, CheckInOut, CheckInRefused, TicketOut, TicketPage
from api.schemas.users import (
    NEW_PASSWORD, LoginIn, LogoutIn, NotificationOut, NotificationPage, ProfileOut,
    ProfilePatch, RegisterIn, TokensOut, UserOut,
)

__all__ = [
    "Currency", "Int", "PageArgs", "StrictSchema",
    "EVENT_STATUSES", "EventIn", "EventListArgs", "EventOptions", "EventOut", "EventPage",
    "EventPatch", "TierIn", "TierOut", "TierPatch",
    "PaymentOut", "SagaListArgs", "SagaOut", "SagaPage", "StartPurchaseIn", "StartPurchaseOut",
    "StepOut", "TicketRef",
    "EventSalesOut", "TierSalesOut",
    "CheckInIn", "CheckInOut", "CheckInRefused", "TicketOut", "TicketPage",
    "NEW_PASSWORD", "LoginIn", "LogoutIn", "NotificationOut", "NotificationPage", "ProfileOut",
    "ProfilePatch", "RegisterIn", "TokensOut", "UserOut",
]
