"""Read-only views of the payments domain for callers that must answer at once."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from contracts.statuses import PaymentKind, PaymentStatus
from workers.db import transaction
from workers.payments.models import Payment


def money_of_sagas(saga_ids) -> dict[uuid.UUID, dict]:
    """What was charged and refunded for each of these sagas (only those with money moved):
    ``{saga_id: {"charged_cents", "refunded_cents"}}``."""
    ids = list(saga_ids)
    money: dict = {}
    with transaction() as s:
        for start in range(0, len(ids), 1000):
            rows = s.execute(select(Payment.saga_id, Payment.kind, Payment.amount_cents)
                             .where(Payment.saga_id.in_(ids[start:start + 1000]),
                                    Payment.status == PaymentStatus.SUCCEEDED))
            for saga_id, kind, cents in rows:
                entry = money.setdefault(saga_id, {"charged_cents": 0, "refunded_cents": 0})
                entry["charged_cents" if kind == PaymentKind.CHARGE else "refunded_cents"] += cents
    return money
