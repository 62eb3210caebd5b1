"""Check-in at the door on the real stack: a purchased ticket admits its bearer once."""
import secrets
import threading
import uuid

import pytest

from harness.processes import wait_for
from tests.integration.conftest import wait_terminal
from workers.tickets import checkin, codes

pytestmark = pytest.mark.usefixtures("worker_processes")


def buy(api, organizer, *, quantity=1):
    """A confirmed purchase: ``(event, buyer, saga_id, tickets)``."""
    event, buyer = api.event(organizer), api.user()
    r = api.start(buyer, event, quantity=quantity)
    assert r.status_code == 202, r.get_json()
    saga_id = r.get_json()["saga_id"]
    assert wait_terminal([saga_id])[saga_id]["status"] == "confirmed"
    tickets = api.call("GET", "/tickets", buyer["token"]).get_json()["items"]
    assert len(tickets) == quantity
    return event, buyer, saga_id, tickets


def code_of(ticket) -> str:
    # A ticket's code is its id signed (the same id always gives the same code); signing
    # here keeps these tests independent of how confirm_seats stores it.
    return codes.new_code(uuid.UUID(ticket["id"]))


def scan(api, staff, code, **body):
    return api.call("POST", "/checkin", staff["token"], json={"code": code, **body})


def ticket_status(api, buyer, ticket) -> str:
    return api.call("GET", f"/tickets/{ticket['id']}", buyer["token"]).get_json()["status"]


@pytest.fixture
def staff(api):
    return api.user("staff")


def test_staff_checks_a_purchased_ticket_in(api, organizer, staff):
    event, buyer, _, [ticket] = buy(api, organizer)

    r = scan(api, staff, code_of(ticket))

    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body.pop("used_at")
    assert body == {"ticket_id": ticket["id"], "status": "used", "event_id": event["id"],
                    "tier_id": event["tiers"][0]["id"]}
    assert ticket_status(api, buyer, ticket) == "used"


def test_a_second_scan_is_refused_with_the_time_of_the_first(api, organizer, staff):
    _, _, _, [ticket] = buy(api, organizer)
    first = scan(api, staff, code_of(ticket)).get_json()

    r = scan(api, api.user("staff"), code_of(ticket))

    assert r.status_code == 409
    body = r.get_json()
    assert body["used_at"] == first["used_at"] and body["ticket_id"] == ticket["id"]
    assert "already checked in" in body["message"] and first["used_at"] in body["message"]
    assert {"code", "status", "message", "errors"} <= set(body)


def test_a_check_in_is_counted_once_per_ticket_per_event(api, organizer, staff):
    event, _, _, tickets = buy(api, organizer, quantity=2)
    for ticket in tickets:
        assert scan(api, staff, code_of(ticket)).status_code == 200
    assert scan(api, staff, code_of(tickets[0])).status_code == 409

    # tickets.ticket_used, on the tickets worker, adds each arrival to a set in Redis
    wait_for(lambda: checkin.arrivals(uuid.UUID(event["id"])) == 2, timeout=30,
             what="both arrivals to be counted")
    assert checkin.arrivals(uuid.UUID(event["id"])) == 2


def test_a_redelivered_ticket_used_event_counts_once():
    from contracts import TicketUsed
    from workers.steps import utcnow
    from workers.tickets.checkin_tasks import ticket_used

    event_id = uuid.uuid4()
    message = TicketUsed.build(ticket_id=uuid.uuid4(), event_id=event_id, used_at=utcnow(),
                               used_by=uuid.uuid4())

    ticket_used(message)
    ticket_used(message)

    assert checkin.arrivals(event_id) == 1


def test_two_doors_scanning_one_ticket_at_once_admit_it_once(api, organizer, staff):
    _, _, _, [ticket] = buy(api, organizer)
    doors = [api.user("staff") for _ in range(6)]
    results, start = [], threading.Barrier(len(doors))

    def door(person):
        start.wait()
        r = scan(api, person, code_of(ticket))
        results.append((r.status_code, r.get_json()["used_at"]))

    threads = [threading.Thread(target=door, args=(p,)) for p in doors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(code for code, _ in results) == [200] + [409] * 5
    assert len({used_at for _, used_at in results}) == 1


def test_an_admin_may_check_tickets_in(api, organizer):
    _, _, _, [ticket] = buy(api, organizer)

    assert scan(api, api.user("admin"), code_of(ticket)).status_code == 200


@pytest.mark.parametrize("role", ["buyer", "organizer"])
def test_only_staff_and_admins_may_check_in(api, organizer, role):
    _, buyer, _, [ticket] = buy(api, organizer)

    r = scan(api, api.user(role), code_of(ticket))

    assert r.status_code == 403 and "staff" in r.get_json()["message"]
    assert ticket_status(api, buyer, ticket) == "valid"


def test_forged_and_unknown_codes_are_refused_with_404(api, organizer, staff):
    _, buyer, _, [ticket] = buy(api, organizer)
    signature = code_of(ticket).split(".")[1]
    forged = [
        f"{uuid.uuid4()}.{signature}",       # a real signature on another ticket id
        f"{ticket['id']}.{'A' * 22}",         # the real id with a made-up signature
        secrets.token_urlsafe(18),            # an unsigned code, as issued before signing
        codes.new_code(uuid.uuid4()),         # signed, but no such ticket
        "not a code at all",
    ]

    for code in forged:
        r = scan(api, staff, code)
        assert r.status_code == 404, (code, r.get_json())
        assert r.get_json()["message"] == "no ticket has this code"
    assert ticket_status(api, buyer, ticket) == "valid"


def test_an_empty_or_missing_code_is_invalid_request(api, staff):
    assert api.call("POST", "/checkin", staff["token"], json={}).status_code == 422
    assert scan(api, staff, "").status_code == 422


def test_a_ticket_of_a_canceled_purchase_is_refused_with_410(api, organizer, staff):
    from workers.tickets.service import release_seats

    event, buyer, saga_id, [ticket] = buy(api, organizer)
    release_seats(saga_id=uuid.UUID(saga_id), user_id=uuid.UUID(buyer["id"]),
                  tier_id=uuid.UUID(event["tiers"][0]["id"]))

    r = scan(api, staff, code_of(ticket))

    assert r.status_code == 410
    assert "canceled" in r.get_json()["message"]
    assert ticket_status(api, buyer, ticket) == "void"


def test_a_ticket_is_refused_at_another_events_door(api, organizer, staff):
    event, buyer, _, [ticket] = buy(api, organizer)
    other_event = api.event(organizer)

    r = scan(api, staff, code_of(ticket), event_id=other_event["id"])

    assert r.status_code == 422 and "another event" in r.get_json()["message"]
    assert ticket_status(api, buyer, ticket) == "valid"
    assert scan(api, staff, code_of(ticket), event_id=event["id"]).status_code == 200


def test_purchased_tickets_carry_their_signed_code(api, organizer):
    _, _, _, [ticket] = buy(api, organizer)

    assert ticket["code"] == code_of(ticket)


def test_the_owner_gets_the_ticket_code_as_a_qr_png(api, organizer):
    _, buyer, _, [ticket] = buy(api, organizer)

    r = api.call("GET", f"/tickets/{ticket['id']}/qr", buyer["token"])

    assert r.status_code == 200
    assert r.headers["Content-Type"] == "image/png"
    assert r.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert r.data == codes.qr_png(ticket["code"])  # test_codes reads this PNG back
    assert "no-store" in r.headers["Cache-Control"]


def test_nobody_else_gets_a_tickets_qr(api, organizer, staff):
    _, _, _, [ticket] = buy(api, organizer)

    for other in (api.user(), staff, api.user("admin")):
        r = api.call("GET", f"/tickets/{ticket['id']}/qr", other["token"])
        assert r.status_code == 404 and r.get_json()["message"] == "no such ticket"
    assert api.call("GET", f"/tickets/{uuid.uuid4()}/qr", staff["token"]).status_code == 404


def test_a_canceled_tickets_qr_is_gone(api, organizer):
    from workers.tickets.service import release_seats

    event, buyer, saga_id, [ticket] = buy(api, organizer)
    release_seats(saga_id=uuid.UUID(saga_id), user_id=uuid.UUID(buyer["id"]),
                  tier_id=uuid.UUID(event["tiers"][0]["id"]))

    assert api.call("GET", f"/tickets/{ticket['id']}/qr", buyer["token"]).status_code == 410


def test_the_openapi_document_describes_check_in_and_the_qr(api):
    paths = api.client.get("/openapi.json").get_json()["paths"]

    qr = paths["/tickets/{ticket_id}/qr"]["get"]
    assert "image/png" in qr["responses"]["200"]["content"]
    checkin_doc = paths["/checkin"]["post"]
    assert {"200", "403", "404", "409", "410", "422"} <= set(checkin_doc["responses"])
    assert {"apiKey": [], "bearer": []} in checkin_doc["security"]
