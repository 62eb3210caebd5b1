"""Events and their ticket tiers, with live availability."""
import uuid

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api import pagination
from api.auth import current_role, current_user_id, login_required
from api.schemas import EventIn, EventOut, EventPage, EventPatch, PageArgs
from workers.orchestration import service as orchestration
from workers.tickets import queries, service

blp = Blueprint("events", __name__, description="Events, ticket tiers and availability")


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, EventPage)
    def get(self, args):
        """List events with their tiers and live availability"""
        after = pagination.decode(args["cursor"], uuid.UUID)
        items = queries.list_events(limit=args["limit"] + 1, after=after and after[0])
        return pagination.page(items, args["limit"], key=lambda e: (e["id"],))

    @login_required("organizer", "admin")
    @blp.arguments(EventIn)
    @blp.response(201, EventOut)
    def post(self, body):
        """Create an event with its ticket tiers (organizers and admins)"""
        event_id = service.create_event(created_by=current_user_id(), **body)
        return queries.get_event(event_id)


@blp.route("/events/<uuid:event_id>")
class Event(MethodView):
    @blp.response(200, EventOut)
    def get(self, event_id):
        """One event with its tiers and live availability"""
        event = queries.get_event(event_id)
        if event is None:
            abort(404, message="no such event")
        return event

    @login_required("organizer", "admin")
    @blp.arguments(EventPatch)
    @blp.response(200, EventOut)
    @blp.alt_response(409, description="the event is canceled, or the status change is not "
                                       "one its lifecycle allows")
    def patch(self, body, event_id):
        """Edit an event; add tiers (no id) or change them (with id)"""
        service.update_event(event_id, editor_id=current_user_id(),
                             editor_is_admin=current_role() == "admin", changes=body)
        return queries.get_event(event_id)


@blp.route("/events/<uuid:event_id>/cancel", methods=["POST"])
@login_required("organizer", "admin")
@blp.response(202, EventOut)
def cancel_event(event_id):
    """Cancel an event: no more sales; every purchase is refunded and its seats released

    The purchases are undone in batches; follow them with `GET /sagas?status=canceled`.
    Repeating the call is safe.
    """
    service.cancel_event(event_id, editor_id=current_user_id(),
                         editor_is_admin=current_role() == "admin")
    try:
        orchestration.request_event_cancellation(event_id)
    except Exception:  # noqa: BLE001  the event is canceled; its purchases are not yet
        abort(503, message="event canceled, but its purchases could not be queued; retry")
    return queries.get_event(event_id)
