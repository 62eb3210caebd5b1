"""An event's status follows one state machine; canceled is final."""
import pytest


def patch(api, organizer, event, **changes):
    return api.call("PATCH", f"/events/{event['id']}", organizer["token"], json=changes)


def test_a_canceled_event_cannot_go_back_on_sale_or_change(api, organizer):
    event = api.event(organizer)
    assert api.call("POST", f"/events/{event['id']}/cancel", organizer["token"]).status_code == 202

    back = patch(api, organizer, event, status="on_sale")
    renamed = patch(api, organizer, event, name="Still on?")

    assert back.status_code == 409 and "canceled" in back.get_json()["message"]
    assert renamed.status_code == 409
    assert api.call("GET", f"/events/{event['id']}", organizer["token"]).get_json()["status"] \
        == "canceled"
    assert api.start(api.user(), event).status_code == 422  # not on sale: nothing charged
    # canceling again stays safe
    assert api.call("POST", f"/events/{event['id']}/cancel", organizer["token"]).status_code == 202


@pytest.mark.parametrize("start, to, code", [
    ("draft", "on_sale", 200), ("on_sale", "sold_out", 200), ("sold_out", "on_sale", 200),
    ("on_sale", "draft", 200), ("draft", "sold_out", 409), ("on_sale", "on_sale", 200),
])
def test_status_changes_follow_the_table(api, organizer, start, to, code):
    event = api.event(organizer, status="draft")
    path = {"draft": [], "on_sale": ["on_sale"], "sold_out": ["on_sale", "sold_out"]}[start]
    for step in path:
        assert patch(api, organizer, event, status=step).status_code == 200

    assert patch(api, organizer, event, status=to).status_code == code
