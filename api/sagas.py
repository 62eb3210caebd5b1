"""Purchases: start one, follow it."""
import uuid

from flask import request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api import pagination
from api.auth import current_role, current_user_id, login_required
from api.purchases import begin_purchase, cancel_purchase, with_tickets_and_payment
from api.schemas import SagaListArgs, SagaOut, SagaPage, StartPurchaseIn, StartPurchaseOut
from workers.orchestration import queries

blp = Blueprint("sagas", __name__, description="Purchases, each run as a saga")


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


@blp.route("/sagas/<uuid:saga_id>")
class Saga(MethodView):
    @login_required()
    @blp.response(200, SagaOut)
    def get(self, saga_id):
        """A purchase: status, reason, step timeline, tickets and payment"""
        saga = queries.get_saga(saga_id)
        if saga is None or (saga["user_id"] != current_user_id() and current_role() != "admin"):
            abort(404, message="no such saga")
        return with_tickets_and_payment(saga)


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
        result["items"] = [with_tickets_and_payment(s) for s in result["items"]]
        return result
