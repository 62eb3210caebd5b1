"""Purchases: start one, follow it."""
import uuid

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api import pagination
from api.auth import current_role, current_user_id, login_required
from api.schemas import SagaListArgs, SagaOut, SagaPage, StartPurchaseIn, StartPurchaseOut
from contracts.statuses import SagaStatus, TicketStatus
from workers.orchestration import queries, service
from workers.payments.service import payment_of_saga
from workers.tickets import queries as tickets
from workers.tickets.errors import EventNotOnSale, OrderLimitExceeded, TierNotFound

blp = Blueprint("sagas", __name__, description="Purchases, each run as a saga")


def begin_purchase(user_id, body: dict, idempotency_key: str | None) -> dict:
    """Start a purchase for a user: the one path for REST and GraphQL alike.

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


@blp.route("/saga/start", methods=["POST"])
@login_required()
@blp.arguments(StartPurchaseIn)
@blp.response(202, StartPurchaseOut)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": False,
                      "schema": {"type": "string", "maxLength": 200},
                      "description": "repeat a request safely: same key and body, same saga"}])
def start_purchase(body):
    """Start a purchase; follow it at the Location given"""
    started = begin_purchase(current_user_id(), body, request.headers.get("Idempotency-Key"))
    location = url_for("sagas.Saga", saga_id=started["saga_id"])
    return started, 202, {"Location": location}


def _full(saga: dict) -> dict:
    saga["tickets"] = [{"id": t["id"], "code": t["code"]}
                       for t in tickets.tickets_of_saga(saga["id"]) if t["status"] != TicketStatus.VOID]
    saga["payment"] = payment_of_saga(saga["id"])
    return saga


@blp.route("/sagas/<uuid:saga_id>")
class Saga(MethodView):
    @login_required()
    @blp.response(200, SagaOut)
    def get(self, saga_id):
        """A purchase: status, reason, step timeline, tickets and payment"""
        saga = queries.get_saga(saga_id)
        if saga is None or (saga["user_id"] != current_user_id() and current_role() != "admin"):
            abort(404, message="no such saga")
        return _full(saga)


def cancel_purchase(user_id, role: str, saga_id) -> tuple[dict, bool]:
    """Cancel a buyer's unfinished purchase: the one path for REST and GraphQL alike.

    Returns the saga and whether a compensation is under way (``False``: it had already
    ended). Aborts 404 for a saga that is not the caller's (admins: any), 409 once confirmed.
    """
    saga = queries.get_saga(saga_id)
    if saga is None or (saga["user_id"] != user_id and role != "admin"):
        abort(404, message="no such saga")
    status = service.cancel_by_buyer(saga_id)
    return _full(queries.get_saga(saga_id)), status == SagaStatus.COMPENSATING


@blp.route("/sagas/<uuid:saga_id>/cancel", methods=["POST"])
@login_required()
@blp.response(200, SagaOut, description="the purchase had already ended; nothing changed")
@blp.alt_response(202, schema=SagaOut,
                  description="compensation under way: refund if charged, release the seats")
@blp.alt_response(404, description="no such purchase of yours")
@blp.alt_response(409, description="the purchase is confirmed: it can no longer be canceled")
def cancel(saga_id):
    """Cancel your unfinished purchase (refund, release; reason `buyer_canceled`)

    A purchase not yet confirmed is undone: refunded if it was charged, its seats
    released; it ends `canceled` with reason `buyer_canceled`. Follow it with
    `GET /sagas/{id}`. Canceling again changes nothing and answers the saga as it stands.
    """
    saga, compensating = cancel_purchase(current_user_id(), current_role(), saga_id)
    return saga, 202 if compensating else 200


@blp.route("/sagas")
class Sagas(MethodView):
    @login_required()
    @blp.arguments(SagaListArgs, location="query")
    @blp.response(200, SagaPage)
    def get(self, args):
        """Your purchases, newest first (admins: everybody's)"""
        before = pagination.decode(args["cursor"], pagination.aware_datetime, uuid.UUID)
        owner = None if current_role() == "admin" else current_user_id()
        items = queries.list_sagas(user_id=owner, status=args["status"],
                                   limit=args["limit"] + 1, before=before)
        result = pagination.page(items, args["limit"], key=lambda s: (s["created_at"].isoformat(), s["id"]))
        result["items"] = [_full(s) for s in result["items"]]
        return result
