"""GET /events is a catalogue: buyers see events on sale or sold out, soonest first, with
filters; organisers see their own drafts with mine=true; admins see everything. A draft
read by id is 404 to anyone but its organiser, staff and admins."""
import uuid

import pytest

from tests.integration.conftest import Api


def at(day: str) -> str:
    return f"{day}T19:00:00+00:00"


@pytest.fixture(scope="module")
def people(app, api_key) -> dict:
    """One account of each role for the module (accounts are slow to make: argon2)."""
    api = Api(app.test_client(use_cookies=False), api_key)
    return {role: api.user(role) for role in ("buyer", "organizer", "staff", "admin")}


@pytest.fixture
def organizer(people):
    return people["organizer"]


@pytest.fixture
def venue():
    """A venue of this test only: filtering by it isolates the test's events."""
    return f"Venue {uuid.uuid4().hex[:8]}"


def listed(api: Api, token=None, **query) -> list[str]:
    """Names of every event listed with ``query``, following the cursors."""
    names, cursor = [], None
    while True:
        r = api.call("GET", "/events", token, query_string={**query, "limit": 2,
                                                             **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.get_json()
        names += [e["name"] for e in r.get_json()["items"]]
        cursor = r.get_json()["next_cursor"]
        if cursor is None:
            return names


@pytest.fixture
def four_events(api, organizer, venue):
    """One event of each status at ``venue``, on different days."""
    made = {}
    for status, day in (("on_sale", "2032-04-04"), ("draft", "2032-04-01"),
                        ("sold_out", "2032-04-02"), ("canceled", "2032-04-03")):
        made[status] = api.event(organizer, name=f"{status} show", venue=venue,
                                 starts_at=at(day),
                                 status="on_sale" if status == "canceled" else status)
    r = api.call("POST", f"/events/{made['canceled']['id']}/cancel", organizer["token"])
    assert r.status_code == 202, r.get_json()
    return made


def test_buyers_and_callers_without_a_token_see_events_on_sale_or_sold_out(api, four_events,
                                                                          venue, people):
    buyer = people["buyer"]

    assert listed(api, venue=venue) == ["sold_out show", "on_sale show"]
    assert listed(api, buyer["token"], venue=venue) == ["sold_out show", "on_sale show"]


def test_an_organiser_sees_own_drafts_only_with_mine(api, four_events, venue, people):
    organizer, other = people["organizer"], people["admin"]

    assert listed(api, organizer["token"], venue=venue) == ["sold_out show", "on_sale show"]
    assert listed(api, organizer["token"], venue=venue, mine="true") == [
        "draft show", "sold_out show", "canceled show", "on_sale show"]
    assert listed(api, other["token"], venue=venue, mine="true") == []  # even an admin's


def test_admins_see_every_event_and_filter_by_status(api, four_events, venue, people):
    admin = people["admin"]

    assert listed(api, admin["token"], venue=venue) == [
        "draft show", "sold_out show", "canceled show", "on_sale show"]
    assert listed(api, admin["token"], venue=venue, status="draft") == ["draft show"]
    assert listed(api, venue=venue, status="draft") == []  # a buyer's filter narrows only


def test_events_are_listed_soonest_first_across_pages(api, organizer, venue):
    for name, day in (("March", "2032-03-01"), ("January", "2032-01-01"),
                      ("February", "2032-02-01"), ("Also January", "2032-01-01")):
        api.event(organizer, name=name, venue=venue, starts_at=at(day))

    names = listed(api, venue=venue)

    assert names[2:] == ["February", "March"]
    assert sorted(names[:2]) == ["Also January", "January"]  # same time: by id


def test_from_and_to_select_a_time_window(api, organizer, venue):
    for name, day in (("Jan", "2032-01-15"), ("Feb", "2032-02-15"), ("Mar", "2032-03-15")):
        api.event(organizer, name=name, venue=venue, starts_at=at(day))

    assert listed(api, venue=venue, **{"from": "2032-02-01T00:00:00Z"}) == ["Feb", "Mar"]
    assert listed(api, venue=venue, to="2032-02-15T19:00:00Z") == ["Jan"]  # to: before it
    assert listed(api, venue=venue, **{"from": "2032-02-15T19:00:00Z",
                                       "to": "2032-03-01T00:00:00Z"}) == ["Feb"]


def test_venue_and_q_match_in_any_case(api, organizer, venue):
    tag = uuid.uuid4().hex[:6]
    api.event(organizer, name=f"Jazz Night {tag}", venue=venue)
    api.event(organizer, name=f"Rock night {tag}", venue=venue)
    api.event(organizer, name=f"Jazz brunch {tag}", venue=f"{venue} annex")

    # same start: their order between them is the id's, so compare as sets
    assert sorted(listed(api, venue=venue.upper())) == [f"Jazz Night {tag}",
                                                        f"Rock night {tag}"]
    assert sorted(listed(api, q=f"night {tag}".upper())) == [f"Jazz Night {tag}",
                                                            f"Rock night {tag}"]
    assert listed(api, q="jazz", venue=venue) == [f"Jazz Night {tag}"]
    assert listed(api, q="%", venue=venue) == []  # a wildcard is a character, not a pattern


def test_a_draft_by_id_is_404_to_all_but_its_organiser_staff_and_admins(api, four_events,
                                                                         people):
    draft = four_events["draft"]["id"]
    another_organizer = api.user("organizer")

    for token in (None, people["buyer"]["token"], another_organizer["token"]):
        r = api.call("GET", f"/events/{draft}", token)
        assert r.status_code == 404, r.get_json()
        assert r.get_json()["message"] == "no such event"
    for token in (people["organizer"]["token"], people["staff"]["token"],
                  people["admin"]["token"]):
        r = api.call("GET", f"/events/{draft}", token)
        assert r.status_code == 200 and r.get_json()["status"] == "draft"


def test_a_canceled_event_can_still_be_read_by_its_buyers(api, four_events, people):
    r = api.call("GET", f"/events/{four_events['canceled']['id']}", people["buyer"]["token"])

    assert r.status_code == 200 and r.get_json()["status"] == "canceled"


def test_mine_needs_a_bearer_token(api):
    r = api.call("GET", "/events", query_string={"mine": "true"})

    assert r.status_code == 401
    assert "bearer token" in r.get_json()["message"]


def test_an_invalid_token_is_refused_even_where_none_is_needed(api):
    r = api.call("GET", "/events", "not-a-token")

    assert r.status_code == 401


@pytest.mark.parametrize("query, field", [
    ({"from": "yesterday"}, "from"), ({"status": "archived"}, "status"),
    ({"mine": "perhaps"}, "mine"), ({"limit": "2.5"}, "limit"), ({"q": ""}, "q"),
])
def test_a_bad_filter_is_a_422_naming_it(api, query, field):
    r = api.call("GET", "/events", query_string=query)

    assert r.status_code == 422
    assert field in r.get_json()["errors"]["query"]


def test_graphql_lists_and_reads_what_rest_does(api, organizer, four_events, venue):
    query = "query($c: String) { events(limit: 200, cursor: $c) { items { id } nextCursor } }"
    seen, cursor = set(), None
    while True:
        page = api.call("POST", "/graphql", json={"query": query, "variables": {"c": cursor}}
                        ).get_json()["data"]["events"]
        seen |= {e["id"] for e in page["items"]}
        cursor = page["nextCursor"]
        if cursor is None:
            break
    draft = four_events["draft"]["id"]
    one = "query($id: UUID!) { event(id: $id) { id status } }"

    assert four_events["on_sale"]["id"] in seen and four_events["sold_out"]["id"] in seen
    assert draft not in seen and four_events["canceled"]["id"] not in seen
    assert api.call("POST", "/graphql", json={"query": one, "variables": {"id": draft}}
                    ).get_json()["data"]["event"] is None
    mine = api.call("POST", "/graphql", organizer["token"],
                    json={"query": one, "variables": {"id": draft}}).get_json()
    assert mine["data"]["event"] == {"id": draft, "status": "draft"}
