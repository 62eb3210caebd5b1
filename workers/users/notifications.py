"""What a buyer is told when a purchase ends: one row per saga and terminal status.

No mail server is involved: the row is what a mailer would send, and the buyer reads it
at ``GET /users/me/notifications``.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from contracts.statuses import SagaReason, SagaStatus
from workers.db import transaction
from workers.steps import utcnow
from workers.users.models import Notification

#: the buyer-facing words for a saga's reason
REASON_TEXT = {
    SagaReason.SOLD_OUT: "the tickets sold out",
    SagaReason.PAYMENT_DECLINED: "your payment was declined",
    SagaReason.INSUFFICIENT_FUNDS: "your card has insufficient funds",
    SagaReason.PAYMENT_UNAVAILABLE: "the payment could not be processed",
    SagaReason.HOLD_EXPIRED: "the reservation expired", SagaReason.TIMED_OUT: "it took too long",
    SagaReason.BUYER_CANCELED: "you canceled it",
    SagaReason.EVENT_CANCELED: "the event was canceled",
    SagaReason.OPERATOR_CANCELED: "it was canceled by our staff",
    SagaReason.NOT_ON_SALE: "the tickets are not on sale",
}


def _money(amount_cents: int | None, currency: str | None) -> str:
    return f"{amount_cents / 100:.2f} {currency}" if amount_cents and currency else ""


def compose(event: dict) -> tuple[str, str]:
    """The subject and body a ``SagaCompleted`` event means for its buyer."""
    status, count = event["status"], len(event["ticket_ids"])
    paid = _money(event["amount_cents"], event["currency"])
    if status == SagaStatus.CONFIRMED:
        return ("Your tickets",
                f"Your purchase is confirmed: {count} ticket(s)" + (f" for {paid}" if paid else "")
                + ". Find them under your tickets.")
    why = REASON_TEXT.get(event["reason"], event["reason"] or "it could not be completed")
    if status == SagaStatus.CANCELED:
        return (f"Your purchase was canceled: {event['reason']}",
                f"Your purchase was canceled because {why}. Any charge is refunded in full.")
    return ("Your purchase could not be completed",
            "Your purchase could not be completed and our staff are looking into it. "
            "Any charge will be refunded.")


def record_saga_completed(event: dict) -> bool:
    """Write the buyer's notification for a ``SagaCompleted``; ``False`` if a delivery of
    the same event (saga and status) already did."""
    return record_sagas_completed([event]) == 1


def record_sagas_completed(events: list[dict]) -> int:
    """Write the notifications of ``SagaCompleted`` events in one statement and one
    transaction, one per saga and status (an event delivered before, or twice in the
    list, adds nothing); how many were new."""
    rows = {}
    for event in events:
        rows.setdefault((event["saga_id"], event["status"]), _row(event))
    if not rows:
        return 0
    with transaction() as s:
        dialect = postgresql if s.bind.dialect.name == "postgresql" else sqlite
        inserted = s.execute(dialect.insert(Notification).values(list(rows.values()))
                             .on_conflict_do_nothing(index_elements=["saga_id", "status"]))
        return inserted.rowcount


def _row(event: dict) -> dict:
    subject, body = compose(event)
    return dict(id=uuid.uuid4(), user_id=event["user_id"], saga_id=event["saga_id"],
                status=event["status"], reason=event["reason"], subject=subject, body=body,
                amount_cents=event["amount_cents"], currency=event["currency"],
                ticket_ids=[str(t) for t in event["ticket_ids"]], created_at=utcnow())


def _notification(n: Notification) -> dict:
    return {"id": n.id, "saga_id": n.saga_id, "status": n.status, "reason": n.reason,
            "subject": n.subject, "body": n.body, "amount_cents": n.amount_cents,
            "currency": n.currency, "ticket_ids": n.ticket_ids, "created_at": n.created_at}


def notifications_of(user_id: uuid.UUID, *, limit: int,
                     before: tuple[datetime, uuid.UUID] | None = None) -> list[dict]:
    """A user's notifications, newest first."""
    with transaction() as s:
        q = (select(Notification).where(Notification.user_id == user_id)
             .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit))
        if before is not None:
            q = q.where(tuple_(Notification.created_at, Notification.id) < before)
        return [_notification(n) for n in s.scalars(q)]
