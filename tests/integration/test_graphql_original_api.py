"""The original Tickets GraphQL API's operations, on the same paths as REST: ticketById,
ticketsByUserId, reserveTicket, cancelReservation, and an honest confirmTicket."""
import uuid

import pytest

from harness.processes import wait_for
from tests.integration.conftest import payments_of, recorded_purchase, wait_terminal
from tests.integration.test_buyer_cancel import owner_of
from tests.integration.test_graphql import SAGA, graphql, only_error

pytestmark = pytest.mark.usefixtures("worker_processes")

TICKET = "query T($id: UUID!) { ticketById(id: $id) { id code status sagaId eventId tierId } }"
TICKETS_OF = """
query Of($userId: UUID!, $limit: Int!, $cursor: String) {
  ticketsByUserId(userId: $userId, limit: $limit, cursor: $cursor) {
    items { id sagaId } nextCursor }
}"""
RESERVE = """
mutation R($eventId: UUID!, $tierId: UUID!, $quantity: Int!, $paymentToken: String!) {
  reserveTicket(eventId: $eventId, tierId: $tierId, quantity: $quantity,
                paymentToken: $paymentToken) { sagaId status }
}"""
CANCEL = """
mutation C($sagaId: UUID!) {
  cancelReservation(sagaId: $sagaId) { id status reason payment { chargedCents refundedCents } }
}"""
CONFIRM = "mutation F($sagaId: UUID!) { confirmTicket(sagaId: $sagaId) { id status } }"


def reserve(api, buyer, event, *, quantity=1, token="tok_visa"):
    return graphql(api, RESERVE, buyer["token"], eventId=event["id"],
                   tierId=event["tiers"][0]["id"], quantity=quantity, paymentToken=token)


def bought(api, organizer, buyer, quantity=2) -> list[dict]:
    """Tickets bought by ``buyer`` over reserveTicket, as REST shows them."""
    event = api.event(organizer)
    saga_id = reserve(api, buyer, event, quantity=quantity)["data"]["reserveTicket"]["sagaId"]
    assert wait_terminal([saga_id])[saga_id]["status"] == "confirmed"
    return api.call("GET", f"/sagas/{saga_id}", buyer["token"]).get_json()["tickets"]


def test_reserve_ticket_runs_a_purchase_to_confirmed(api, organizer):
    event, buyer = api.event(organizer, capacity=5, price_cents=1500), api.user()

    started = reserve(api, buyer, event, quantity=2)["data"]["reserveTicket"]
    wait_terminal([started["sagaId"]])
    saga = graphql(api, SAGA, buyer["token"], id=started["sagaId"])["data"]["saga"]

    assert started["status"] == "pending"
    assert (saga["status"], len(saga["tickets"])) == ("confirmed", 2)
    assert saga["payment"] == {"status": "charged", "chargedCents": 3000, "refundedCents": 0}
    assert api.available(event) == 3


def test_ticket_by_id_answers_its_owner_staff_and_admins_and_null_to_others(api, organizer):
    buyer = api.user()
    [ticket, _] = bought(api, organizer, buyer)

    mine = graphql(api, TICKET, buyer["token"], id=ticket["id"])["data"]["ticketById"]
    assert (mine["id"], mine["code"], mine["status"]) == (ticket["id"], ticket["code"], "valid")
    for role in ("staff", "admin"):
        seen = graphql(api, TICKET, api.user(role)["token"], id=ticket["id"])["data"]
        assert seen["ticketById"]["id"] == ticket["id"]
    assert graphql(api, TICKET, api.user()["token"], id=ticket["id"])["data"]["ticketById"] is None
    assert graphql(api, TICKET, buyer["token"], id=str(uuid.uuid4()))["data"]["ticketById"] is None
    anonymous = only_error(graphql(api, TICKET, id=ticket["id"]))
    assert anonymous["extensions"]["code"] == 401


def test_tickets_by_user_id_lists_ones_own_and_admins_list_anyones(api, organizer):
    buyer = api.user()
    ticket_ids = {t["id"] for t in bought(api, organizer, buyer, quantity=3)}

    first = graphql(api, TICKETS_OF, buyer["token"], userId=buyer["id"], limit=2)
    page = first["data"]["ticketsByUserId"]
    rest = graphql(api, TICKETS_OF, buyer["token"], userId=buyer["id"], limit=2,
                   cursor=page["nextCursor"])["data"]["ticketsByUserId"]
    by_admin = graphql(api, TICKETS_OF, api.user("admin")["token"], userId=buyer["id"],
                       limit=50)["data"]["ticketsByUserId"]

    assert {t["id"] for t in page["items"] + rest["items"]} == ticket_ids
    assert rest["nextCursor"] is None
    assert {t["id"] for t in by_admin["items"]} == ticket_ids


def test_tickets_by_user_id_of_another_user_is_an_error(api, organizer):
    buyer = api.user()
    bought(api, organizer, buyer, quantity=1)

    for someone in (api.user(), api.user("staff"), api.user("organizer")):
        error = only_error(graphql(api, TICKETS_OF, someone["token"], userId=buyer["id"],
                                   limit=10))
        assert error["extensions"]["code"] == 403
        assert error["message"] == "you may list only your own tickets"


def test_cancel_reservation_refunds_a_charged_purchase_as_buyer_canceled(api, organizer):
    event, buyer = api.event(organizer, capacity=5, price_cents=1000), api.user()
    saga_id = reserve(api, buyer, event, quantity=2,
                      token="tok_visa_delay_2000")["data"]["reserveTicket"]["sagaId"]
    wait_for(lambda: any(p[1:3] == ("charge", "pending") for p in payments_of([saga_id])),
             timeout=60, what="the charge to be in flight")

    canceled = graphql(api, CANCEL, buyer["token"], sagaId=saga_id)["data"]["cancelReservation"]
    wait_terminal([saga_id])
    saga = graphql(api, SAGA, buyer["token"], id=saga_id)["data"]["saga"]

    assert (canceled["id"], canceled["status"]) == (saga_id, "compensating")
    assert (saga["status"], saga["reason"]) == ("canceled", "buyer_canceled")
    assert saga["payment"] == {"status": "refunded", "chargedCents": 2000, "refundedCents": 2000}
    assert saga["tickets"] == [] and api.available(event) == 5


def test_cancel_reservation_refuses_a_confirmed_purchase_and_others_sagas(
        api, organizer, monkeypatch):
    buyer = api.user()
    event = api.event(organizer)
    done = reserve(api, buyer, event)["data"]["reserveTicket"]["sagaId"]
    wait_terminal([done])
    _, pending = recorded_purchase(api, organizer, monkeypatch, lost=True)

    confirmed = only_error(graphql(api, CANCEL, buyer["token"], sagaId=done))
    not_mine = only_error(graphql(api, CANCEL, buyer["token"], sagaId=str(pending)))

    assert confirmed["extensions"]["code"] == 409
    assert not_mine["extensions"]["code"] == 404
    again = graphql(api, CANCEL, owner_of(api, pending)["token"], sagaId=str(pending))
    assert again["data"]["cancelReservation"]["status"] in ("compensating", "canceled")


def test_confirm_ticket_explains_that_a_purchase_confirms_itself(api, organizer):
    error = only_error(graphql(api, CONFIRM, api.user()["token"], sagaId=str(uuid.uuid4())))

    assert error["extensions"]["code"] == 400
    assert "confirmed by the purchase itself" in error["message"]
