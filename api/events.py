"""Events and their ticket tiers, with live availability."""
import uuid
from datetime import datetime

from flask.views import MethodView
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_smorest import Blueprint, abort

from api import pagination
from api.auth import current_role, current_user_id, login_required
from api.schemas import EventIn, EventListArgs, EventOut, EventPage, EventPatch
from workers.tickets import queries, service

blp = Blueprint("events", __name__, description="Events, ticket tiers and availability")
#: the key alone, or with a bearer token to see more (your drafts; admins: everything)
OPTIONAL_BEARER = [{"apiKey": []}, {"apiKey": [], "bearer": []}]
FILTERS = ("mine", "status", "starts_from", "starts_to", "venue", "q")


def viewer() -> queries.Viewer:
    """The caller of a route open to any key: the token's user if a token came (an
    invalid or expired one is refused as on any route)."""
    verify_jwt_in_request(optional=True)
    identity = get_jwt_identity()
    return queries.Viewer(uuid.UUID(identity), current_role()) if identity else queries.Viewer()


def catalogue_page(who: queries.Viewer, args: dict) -> dict:
    """A page of the events ``who`` may see, as ``EventListArgs`` asked: REST and GraphQL."""
    if args.get("mine") and who.user_id is None:
        abort(401, message="mine=true needs a bearer token")
    after = pagination.decode(args["cursor"], datetime.fromisoformat, uuid.UUID)
    filters = queries.Filters(**{name: args.get(name) for name in FILTERS})
    items = queries.list_events(who, filters, limit=args["limit"] + 1, after=after)
    return pagination.page(items, args["limit"],
                           key=lambda e: (e["starts_at"].isoformat(), e["id"]))


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(EventListArgs, location="query")
    @blp.response(200, EventPage)
    @blp.doc(security=OPTIONAL_BEARER)
    def get(self, args):
        """The catalogue: events on sale or sold out, soonest first

        With a bearer token, `mine=true` lists your own events, drafts included; admins
        see every event (and may filter by any `status`).
        """
        return catalogue_page(viewer(), args)

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
    @blp.doc(security=OPTIONAL_BEARER)
    def get(self, event_id):
        """One event with its tiers and live availability (a draft: its organizer, staff
        and admins only)"""
        event = queries.visible_event(event_id, viewer())
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
    return queries.get_event(event_id)
