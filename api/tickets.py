"""Your issued tickets, their QR codes, and check-in at the door."""
import uuid

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api import pagination
from api.auth import current_user_id, login_required
from api.errors import error_response
from api.schemas import (
    CheckInIn, CheckInOut, CheckInRefused, PageArgs, TicketOut, TicketPage,
)
from contracts.statuses import TicketStatus
from workers.tickets import errors, queries, service

blp = Blueprint("tickets", __name__, description="Issued tickets and check-in")
#: the API key and a user's token
SECURITY = [{"apiKey": [], "bearer": []}]


@blp.route("/tickets")
class Tickets(MethodView):
    @login_required()
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, TicketPage)
    def get(self, args):
        """Your tickets"""
        after = pagination.decode(args["cursor"], uuid.UUID)
        items = queries.tickets_of_owner(current_user_id(), limit=args["limit"] + 1,
                                         after=after and after[0])
        return pagination.page(items, args["limit"], key=lambda t: (t["id"],))


@blp.route("/tickets/<uuid:ticket_id>")
class Ticket(MethodView):
    @login_required()
    @blp.response(200, TicketOut)
    def get(self, ticket_id):
        """One of your tickets"""
        ticket = queries.ticket_of_owner(ticket_id, current_user_id())
        if ticket is None:
            abort(404, message="no such ticket")
        return ticket


@blp.route("/tickets/<uuid:ticket_id>/qr")
class TicketQr(MethodView):
    @login_required()
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/png",
                  description="the ticket's code as a QR symbol, to show at the door")
    @blp.alt_response(404, description="no such ticket of yours")
    @blp.alt_response(410, description="the ticket was canceled: it admits no one")
    @blp.doc(security=SECURITY)
    def get(self, ticket_id):
        """One of your tickets as a QR code (PNG)"""
        ticket = queries.ticket_of_owner(ticket_id, current_user_id())
        if ticket is None:
            abort(404, message="no such ticket")
        if ticket["status"] == TicketStatus.VOID:
            abort(410, message="this ticket was canceled: it admits no one")
        # The code admits its bearer: keep it out of shared caches.
        return Response(queries.qr_png(ticket["code"]), mimetype="image/png",
                        headers={"Cache-Control": "private, no-store"})


@blp.route("/checkin", methods=["POST"])
@login_required("staff", "admin")
@blp.arguments(CheckInIn)
@blp.response(200, CheckInOut)
@blp.alt_response(403, schema=CheckInRefused, description="needs the role staff or admin")
@blp.alt_response(404, schema=CheckInRefused,
                  description="forged or unknown code: nothing is checked in")
@blp.alt_response(409, schema=CheckInRefused,
                  description="already checked in: `used_at` says when")
@blp.alt_response(410, schema=CheckInRefused, description="the ticket's purchase was canceled")
@blp.alt_response(422, schema=CheckInRefused,
                  description="invalid body, or a ticket of another event than `event_id`")
@blp.doc(security=SECURITY)
def check_in(body):
    """Admit a ticket at the door (staff): marks it used, exactly once"""
    return service.check_in(body["code"], staff_id=current_user_id(), event_id=body["event_id"])


@blp.errorhandler(errors.TicketAlreadyUsed)
def _already_used(exc: errors.TicketAlreadyUsed):
    response, code = error_response(409, str(exc))
    return jsonify({**response.get_json(), "ticket_id": str(exc.ticket_id),
                    "used_at": exc.used_at.isoformat()}), code
