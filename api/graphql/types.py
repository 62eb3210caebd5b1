"""What the GraphQL API returns: the REST shapes, camelCased, built from the query dicts."""
from __future__ import annotations

import uuid
from datetime import datetime

import strawberry


@strawberry.type(description="A ticket tier of an event")
class Tier:
    id: uuid.UUID
    name: str
    price_cents: int
    currency: str
    capacity: int
    available: int = strawberry.field(description="seats left now (live)")

    @classmethod
    def of(cls, row: dict) -> Tier:
        return cls(id=row["id"], name=row["name"], price_cents=row["price_cents"],
                   currency=row["currency"], capacity=row["capacity"], available=row["available"])


@strawberry.type(description="An event with its ticket tiers and live availability")
class Event:
    id: uuid.UUID
    name: str
    venue: str
    starts_at: datetime
    status: str
    tiers: list[Tier]

    @classmethod
    def of(cls, row: dict) -> Event:
        return cls(id=row["id"], name=row["name"], venue=row["venue"], starts_at=row["starts_at"],
                   status=row["status"], tiers=[Tier.of(t) for t in row["tiers"]])


@strawberry.type
class EventPage:
    items: list[Event]
    next_cursor: str | None


@strawberry.type(description="An issued ticket")
class Ticket:
    id: uuid.UUID
    code: str
    status: str
    event_id: uuid.UUID
    tier_id: uuid.UUID
    saga_id: uuid.UUID
    issued_at: datetime | None

    @classmethod
    def of(cls, row: dict) -> Ticket:
        return cls(id=row["id"], code=row["code"], status=row["status"], event_id=row["event_id"],
                   tier_id=row["tier_id"], saga_id=row["saga_id"], issued_at=row["issued_at"])


@strawberry.type
class TicketPage:
    items: list[Ticket]
    next_cursor: str | None


@strawberry.type
class SagaStep:
    name: str
    status: str
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None

    @classmethod
    def of(cls, row: dict) -> SagaStep:
        return cls(name=row["name"], status=row["status"], attempts=row["attempts"],
                   started_at=row["started_at"], finished_at=row["finished_at"], error=row["error"])


@strawberry.type
class TicketRef:
    id: uuid.UUID
    code: str


@strawberry.type
class Payment:
    status: str
    charged_cents: int
    refunded_cents: int

    @classmethod
    def of(cls, row: dict) -> Payment:
        return cls(status=row["status"], charged_cents=row["charged_cents"],
                   refunded_cents=row["refunded_cents"])


@strawberry.type(description="A purchase: status, reason, step timeline, tickets and payment")
class Saga:
    id: uuid.UUID
    status: str
    reason: str | None
    error: str | None
    event_id: uuid.UUID
    tier_id: uuid.UUID
    quantity: int
    amount_cents: int | None
    currency: str | None
    created_at: datetime
    updated_at: datetime
    steps: list[SagaStep]
    tickets: list[TicketRef]
    payment: Payment

    @classmethod
    def of(cls, row: dict) -> Saga:
        return cls(
            id=row["id"], status=row["status"], reason=row["reason"], error=row["error"],
            event_id=row["event_id"], tier_id=row["tier_id"], quantity=row["quantity"],
            amount_cents=row["amount_cents"], currency=row["currency"],
            created_at=row["created_at"], updated_at=row["updated_at"],
            steps=[SagaStep.of(step) for step in row["steps"]],
            tickets=[TicketRef(id=t["id"], code=t["code"]) for t in row["tickets"]],
            payment=Payment.of(row["payment"]))


@strawberry.type(description="An accepted purchase; follow it with saga(id)")
class PurchaseStarted:
    saga_id: uuid.UUID
    status: str
