"""Purchases as every face of the gateway handles them (REST and GraphQL alike): start one,
cancel one, and a saga as a buyer sees it, with its tickets and payment."""
from flask_smorest import abort

from contracts.statuses import SagaStatus, TicketStatus
from workers.orchestration import queries, service
from workers.payments.service import payment_of_saga
from workers.tickets import queries as tickets
from workers.tickets.errors import EventNotOnSale, OrderLimitExceeded, TierNotFound


def begin_purchase(user_id, body: dict, idempotency_key: str | None) -> dict:
    """Start a purchase for a user.

    ``body`` has been validated by ``StartPurchaseIn``; aborts with 422 when the
    Idempotency-Key is malformed or reused with another body, or the tier is not on sale.
    """
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        abort(422, message="Idempotency-Key must be 1-200 characters",
              errors={"headers": {"Idempotency-Key": ["must be 1-200 characters"]}})
    try:
        tickets.check_purchase(body["event_id"], body["tier_id"], body["quantity"])
    except (TierNotFound, EventNotOnSale):
        abort(422, message="no such ticket tier on sale for this event",
              errors={"json": {"tier_id": ["no such ticket tier on sale for this event"]}})
    except OrderLimitExceeded as refused:
        abort(422, message=str(refused), errors={"json": {"quantity": [str(refused)]}})
    saga_id, created = service.start_purchase(user_id=user_id, idempotency_key=idempotency_key,
                                              **body)
    status = SagaStatus.PENDING if created else queries.get_saga(saga_id)["status"]
    return {"saga_id": saga_id, "status": status}


def with_tickets_and_payment(saga: dict) -> dict:
    """A saga record with its issued (not void) tickets and its payment."""
    saga["tickets"] = [{"id": t["id"], "code": t["code"]}
                       for t in tickets.tickets_of_saga(saga["id"]) if t["status"] != TicketStatus.VOID]
    saga["payment"] = payment_of_saga(saga["id"])
    return saga


def cancel_purchase(user_id, role: str, saga_id) -> tuple[dict, bool]:
    """Cancel a buyer's unfinished purchase.

    Returns the saga and whether a compensation is under way (``False``: it had already
    ended). Aborts 404 for a saga that is not the caller's (admins: any), 409 once confirmed.
    """
    saga = queries.get_saga(saga_id)
    if saga is None or (saga["user_id"] != user_id and role != "admin"):
        abort(404, message="no such saga")
    status = service.cancel_by_buyer(saga_id)
    return with_tickets_and_payment(queries.get_saga(saga_id)), status == SagaStatus.COMPENSATING
