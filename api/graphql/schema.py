"""The Tickets GraphQL API: events with live availability, your tickets, your purchases.

Resolvers do what the REST views do, with the same validation (``api.schemas``), the same
purchase entry point (``api.sagas.begin_purchase``) and the domains' query functions.
"""
from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from strawberry.types import Info

from api import pagination
from api.graphql.context import Context
from api.graphql.errors import PublicErrors, Schema
from api.graphql.limits import LIMITS
from api.graphql.types import Event, EventPage, PurchaseStarted, Saga, Ticket, TicketPage
from api.sagas import _full as with_tickets_and_payment
from api.sagas import begin_purchase
from api.events import catalogue_page
from api.schemas import EventListArgs, PageArgs, StartPurchaseIn
from workers.orchestration import queries as sagas
from workers.tickets import catalogue
from workers.tickets import queries as tickets

Limit = Annotated[int, strawberry.argument(description="page size, 1-200")]
Cursor = Annotated[str | None, strawberry.argument(description="nextCursor of the page before")]
Id = Annotated[uuid.UUID, strawberry.argument(name="id")]


def _page_args(limit: int, cursor: str | None) -> tuple[int, uuid.UUID | None]:
    args = PageArgs().load({"limit": limit, "cursor": cursor})
    after = pagination.decode(args["cursor"], uuid.UUID)
    return args["limit"], after and after[0]


@strawberry.type
class Query:
    @strawberry.field(description="The catalogue, as GET /events: events on sale or sold "
                                  "out, soonest first, with tiers and live availability "
                                  "(admins: every event), by page")
    def events(self, info: Info[Context, None], limit: Limit = 50,
               cursor: Cursor = None) -> EventPage:
        args = EventListArgs().load({"limit": limit, "cursor": cursor})
        page = catalogue_page(info.context.viewer, args)
        return EventPage(items=[Event.of(e) for e in page["items"]],
                         next_cursor=page["next_cursor"])

    @strawberry.field(description="One event with its tiers and live availability; null if "
                                  "none (or a draft that is not yours)")
    def event(self, info: Info[Context, None], event_id: Id) -> Event | None:
        row = catalogue.visible_event(event_id, info.context.viewer)
        return Event.of(row) if row else None

    @strawberry.field(description="Your issued tickets (needs a bearer token)")
    def my_tickets(self, info: Info[Context, None], limit: Limit = 50,
                   cursor: Cursor = None) -> TicketPage:
        owner = info.context.require_user()
        limit, after = _page_args(limit, cursor)
        page = pagination.page(tickets.tickets_of_owner(owner, limit=limit + 1, after=after),
                               limit, key=lambda t: (t["id"],))
        return TicketPage(items=[Ticket.of(t) for t in page["items"]],
                          next_cursor=page["next_cursor"])

    @strawberry.field(description="One of your purchases (admins: anyone's); null if it is "
                                  "not there or not yours (needs a bearer token)")
    def saga(self, info: Info[Context, None], saga_id: Id) -> Saga | None:
        user = info.context.require_user()
        row = sagas.get_saga(saga_id)
        if row is None or (row["user_id"] != user and not info.context.is_admin):
            return None
        return Saga.of(with_tickets_and_payment(row))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Start a purchase and follow it with saga(id). Repeating "
                                     "it with the same idempotencyKey and arguments returns "
                                     "the same saga (needs a bearer token)")
    def start_purchase(self, info: Info[Context, None], event_id: uuid.UUID, tier_id: uuid.UUID,
                       quantity: int, payment_token: str,
                       idempotency_key: str | None = None) -> PurchaseStarted:
        buyer = info.context.require_user()
        body = StartPurchaseIn().load({"event_id": str(event_id), "tier_id": str(tier_id),
                                       "quantity": quantity, "payment_token": payment_token})
        started = begin_purchase(buyer, body, idempotency_key)
        return PurchaseStarted(saga_id=started["saga_id"], status=started["status"])


schema = Schema(query=Query, mutation=Mutation, extensions=[*LIMITS, PublicErrors])
