"""The Tickets GraphQL API at /graphql: the same purchases, checks and data as REST."""
import uuid

from tests.integration.conftest import wait_terminal

START = """
mutation Start($eventId: UUID!, $tierId: UUID!, $quantity: Int!, $paymentToken: String!,
               $key: String) {
  startPurchase(eventId: $eventId, tierId: $tierId, quantity: $quantity,
                paymentToken: $paymentToken, idempotencyKey: $key) { sagaId status }
}"""

SAGA = """
query Saga($id: UUID!) {
  saga(id: $id) {
    id status reason eventId tierId quantity amountCents currency
    steps { name status attempts startedAt finishedAt error }
    tickets { id code }
    payment { status chargedCents refundedCents }
  }
}"""

EVENT = """
query Event($id: UUID!) {
  event(id: $id) { id name venue startsAt status
                   tiers { id name priceCents currency capacity available } }
}"""

MY_TICKETS = "{ myTickets { items { id code status sagaId eventId } nextCursor } }"


def graphql(api, query, token=None, **variables):
    r = api.call("POST", "/graphql", token, json={"query": query, "variables": variables})
    assert r.status_code == 200, (r.status_code, r.get_data(as_text=True))
    return r.get_json()


def start(api, buyer, event, *, quantity=1, key=None, token="tok_visa"):
    return graphql(api, START, buyer["token"], eventId=event["id"],
                   tierId=event["tiers"][0]["id"], quantity=quantity, paymentToken=token,
                   key=key)


def only_error(body) -> dict:
    assert body.get("data") in (None, {}) or all(v is None for v in body["data"].values()), body
    [error] = body["errors"]
    return error


def test_a_purchase_started_over_graphql_is_followed_to_confirmed(api, organizer,
                                                                 worker_processes):
    event, buyer = api.event(organizer, capacity=5, price_cents=1500), api.user()

    started = start(api, buyer, event, quantity=2)["data"]["startPurchase"]
    wait_terminal([started["sagaId"]])
    saga = graphql(api, SAGA, buyer["token"], id=started["sagaId"])["data"]["saga"]

    assert started["status"] == "pending"
    assert saga["status"] == "confirmed" and saga["reason"] is None
    assert saga["quantity"] == 2 and saga["amountCents"] == 3000
    assert saga["payment"] == {"status": "charged", "chargedCents": 3000, "refundedCents": 0}
    rest = api.call("GET", f"/sagas/{started['sagaId']}", buyer["token"]).get_json()
    assert saga["tickets"] == rest["tickets"] and len(saga["tickets"]) == 2
    assert [s["name"] for s in saga["steps"]] == [s["name"] for s in rest["steps"]]
    assert [s["status"] for s in saga["steps"]] == [s["status"] for s in rest["steps"]]
    mine = graphql(api, MY_TICKETS, buyer["token"])["data"]["myTickets"]
    assert {t["id"] for t in mine["items"]} == {t["id"] for t in saga["tickets"]}
    assert {t["sagaId"] for t in mine["items"]} == {started["sagaId"]}
    tier = graphql(api, EVENT, id=event["id"])["data"]["event"]["tiers"][0]
    assert tier["available"] == 3


def test_the_same_idempotency_key_and_arguments_return_the_same_saga(api, organizer,
                                                                     worker_processes):
    event, buyer, key = api.event(organizer), api.user(), str(uuid.uuid4())

    first = start(api, buyer, event, quantity=2, key=key)["data"]["startPurchase"]
    second = start(api, buyer, event, quantity=2, key=key)["data"]["startPurchase"]

    assert first["sagaId"] == second["sagaId"]
    mine = api.call("GET", "/sagas", buyer["token"]).get_json()["items"]
    assert [s["id"] for s in mine] == [first["sagaId"]]


def test_the_same_idempotency_key_with_other_arguments_is_a_422_error(api, organizer,
                                                                      worker_processes):
    event, buyer, key = api.event(organizer), api.user(), str(uuid.uuid4())
    start(api, buyer, event, quantity=2, key=key)

    error = only_error(start(api, buyer, event, quantity=3, key=key))

    assert error["extensions"]["code"] == 422
    assert "Idempotency-Key" in error["message"]


def test_a_bad_quantity_is_a_graphql_error_and_starts_nothing(api, organizer):
    event, buyer = api.event(organizer), api.user()

    error = only_error(start(api, buyer, event, quantity=0))

    assert error["extensions"]["code"] == 422
    assert "quantity" in error["extensions"]["errors"]
    assert "quantity" in error["message"]
    assert api.call("GET", "/sagas", buyer["token"]).get_json()["items"] == []


def test_a_tier_of_another_event_is_a_graphql_error_naming_the_tier(api, organizer):
    event, buyer = api.event(organizer), api.user()
    other = api.event(organizer)
    event = {**event, "tiers": other["tiers"]}

    error = only_error(start(api, buyer, event))

    assert error["extensions"]["code"] == 422
    assert "tierId" in error["extensions"]["errors"]
    assert api.call("GET", "/sagas", buyer["token"]).get_json()["items"] == []


def test_my_tickets_without_a_token_is_an_authentication_error(api):
    error = only_error(graphql(api, MY_TICKETS))

    assert error["message"] == "authentication required"
    assert error["extensions"]["code"] == 401


def test_a_bad_token_is_an_authentication_error_on_private_fields_only(api, organizer):
    event = api.event(organizer)

    private = only_error(graphql(api, MY_TICKETS, token="not.a.jwt"))
    public = graphql(api, EVENT, token="not.a.jwt", id=event["id"])

    assert private["message"].startswith("authentication required")
    assert private["extensions"]["code"] == 401
    assert public["data"]["event"]["id"] == event["id"]


def test_starting_a_purchase_needs_a_token(api, organizer):
    event = api.event(organizer)

    body = graphql(api, START, eventId=event["id"], tierId=event["tiers"][0]["id"],
                   quantity=1, paymentToken="tok_visa")

    assert only_error(body)["extensions"]["code"] == 401


def test_a_saga_is_visible_to_its_owner_and_admins_only(api, organizer):
    event, owner, other = api.event(organizer), api.user(), api.user()
    saga_id = api.start(owner, event).get_json()["saga_id"]

    assert graphql(api, SAGA, other["token"], id=saga_id) == {"data": {"saga": None}}
    assert graphql(api, SAGA, owner["token"], id=saga_id)["data"]["saga"]["id"] == saga_id
    admin = api.user("admin")
    assert graphql(api, SAGA, admin["token"], id=saga_id)["data"]["saga"]["id"] == saga_id


def test_a_missing_or_invalid_api_key_is_401(api):
    for headers in ({}, {"X-API-Key": "bo_not-a-real-key"}):
        r = api.client.post("/graphql", headers=headers, json={"query": "{ events { nextCursor } }"})

        assert r.status_code == 401
        assert "X-API-Key" in r.get_json()["message"]


def test_the_graphiql_page_loads_without_a_key_and_reads_nothing(api):
    page = api.client.get("/graphql", headers={"Accept": "text/html"})
    query = api.client.get("/graphql", query_string={"query": "{ events { nextCursor } }"})

    assert page.status_code == 200 and "graphiql" in page.get_data(as_text=True).lower()
    assert query.status_code == 405


def test_a_query_nested_beyond_the_depth_limit_is_a_graphql_error(api):
    deep = "{ events { items { tiers { a { b { c { d { e { f { g } } } } } } } } } }"

    body = graphql(api, deep)

    assert body.get("data") is None
    assert any("depth" in e["message"] for e in body["errors"])


def test_a_list_limit_above_200_is_refused(api):
    body = graphql(api, "{ events(limit: 201) { nextCursor } }")

    assert only_error(body)["extensions"]["code"] == 422


def test_event_and_events_show_tiers_with_live_availability(api, organizer):
    event = api.event(organizer, capacity=7, price_cents=2500)

    one = graphql(api, EVENT, id=event["id"])["data"]["event"]
    found, cursor = None, None
    while found is None:
        page = graphql(api, "query($c: String) { events(limit: 200, cursor: $c) {"
                            " items { id tiers { id available capacity } } nextCursor } }",
                       c=cursor)["data"]["events"]
        found = next((e for e in page["items"] if e["id"] == event["id"]), None)
        cursor = page["nextCursor"]
        assert found or cursor, "the new event is not listed"

    assert one["tiers"] == [{"id": event["tiers"][0]["id"], "name": "General", "priceCents": 2500,
                             "currency": "EUR", "capacity": 7, "available": 7}]
    assert found["tiers"] == [{"id": event["tiers"][0]["id"], "available": 7, "capacity": 7}]
    assert one["startsAt"].startswith("2031-05-01T19:00:00")


def test_an_unknown_event_is_null(api):
    assert graphql(api, EVENT, id=str(uuid.uuid4())) == {"data": {"event": None}}


def test_events_are_paged_with_a_cursor(api, organizer):
    api.event(organizer), api.event(organizer)
    query = "query($c: String) { events(limit: 1, cursor: $c) { items { id } nextCursor } }"

    first = graphql(api, query)["data"]["events"]
    second = graphql(api, query, c=first["nextCursor"])["data"]["events"]

    assert first["nextCursor"] is not None
    assert second["items"][0]["id"] > first["items"][0]["id"]
