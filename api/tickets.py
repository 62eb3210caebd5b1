"""Your issued tickets."""
import uuid

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from api import pagination
from api.auth import current_user_id, login_required
from api.schemas import PageArgs, TicketOut, TicketPage
from workers.tickets import queries

blp = Blueprint("tickets", __name__, description="Issued tickets")


@blp.route("/tickets")
class Tickets(MethodView):
    decorators = [login_required()]

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
    decorators = [login_required()]

    @blp.response(200, TicketOut)
    def get(self, ticket_id):
        """One of your tickets"""
        ticket = queries.ticket_of_owner(ticket_id, current_user_id())
        if ticket is None:
            abort(404, message="no such ticket")
        return ticket
