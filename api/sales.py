"""Organisers' view of an event's sales: its purchases and totals per tier.

Composed here from three domains' query functions: the tickets domain counts seats, the
orchestration domain knows which saga bought which tier, the payments domain the money.
"""
import uuid
from datetime import datetime

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api import pagination
from api.auth import current_role, current_user_id, login_required
from api.purchases import with_tickets_and_payment
from api.schemas import EventSalesOut, SagaListArgs, SagaPage
from workers.orchestration import queries as sagas
from workers.payments import queries as payments
from workers.tickets import queries as tickets

blp = Blueprint("sales", __name__, description="An event's purchases and sales, for its organiser")
#: who sees any event's sales; an organiser sees those of the events they created
SEE_ALL = ("staff", "admin")
#: the API key and a user's token
SECURITY = [{"apiKey": [], "bearer": []}]


def _own_event(event_id: uuid.UUID) -> dict:
    """The event, if the caller organises it (or is staff or admin); else 404 as if none."""
    event = tickets.get_event(event_id)
    if event is None or (current_role() not in SEE_ALL
                         and event["created_by"] != current_user_id()):
        abort(404, message="no such event of yours")
    return event


@blp.route("/events/<uuid:event_id>/sagas")
class EventSagas(MethodView):
    @login_required()
    @blp.arguments(SagaListArgs, location="query")
    @blp.response(200, SagaPage)
    @blp.alt_response(404, description="no such event, or not one you organise")
    @blp.doc(security=SECURITY)
    def get(self, args, event_id):
        """The event's purchases, newest first (its organiser, staff, admins)"""
        _own_event(event_id)
        before = pagination.decode(args["cursor"], datetime.fromisoformat, uuid.UUID)
        items = sagas.list_sagas(user_id=None, event_id=event_id, status=args["status"],
                                 limit=args["limit"] + 1, before=before)
        result = pagination.page(items, args["limit"],
                                 key=lambda s: (s["created_at"].isoformat(), s["id"]))
        result["items"] = [with_tickets_and_payment(s) for s in result["items"]]
        return result


@blp.route("/events/<uuid:event_id>/sales")
class EventSales(MethodView):
    @login_required()
    @blp.response(200, EventSalesOut)
    @blp.alt_response(404, description="no such event, or not one you organise")
    @blp.doc(security=SECURITY)
    def get(self, event_id):
        """The event's totals per tier: seats sold, held, available; money charged, refunded"""
        _own_event(event_id)
        tier_of = sagas.tiers_of_event_sagas(event_id)
        money = {}
        for saga_id, moved in payments.money_of_sagas(tier_of).items():
            totals = money.setdefault(tier_of[saga_id], {"charged_cents": 0, "refunded_cents": 0})
            for key, cents in moved.items():
                totals[key] += cents
        return {"event_id": event_id, "tiers": [_tier_sales(t, money) for t in
                                                tickets.seats_by_tier(event_id)]}


def _tier_sales(tier: dict, money: dict) -> dict:
    moved = money.get(tier["id"], {"charged_cents": 0, "refunded_cents": 0})
    return {"tier_id": tier["id"], **{k: tier[k] for k in (
                "name", "currency", "price_cents", "capacity", "sold", "held", "available")},
            **moved, "revenue_cents": moved["charged_cents"] - moved["refunded_cents"]}
