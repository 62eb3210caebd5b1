"""GET /metrics: the business in Prometheus figures, for operators only."""
import pytest
from prometheus_client.parser import text_string_to_metric_families

from settings import FAIL_CONFIRM_TIER
from tests.integration.conftest import wait_terminal

TOKEN = "metrics-test-token-0123456789"


@pytest.fixture
def scrape(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)

    def read() -> dict:
        r = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200, r.get_data(as_text=True)
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(r.get_data(as_text=True))
                for s in family.samples}
    return read


def sagas(figures, status, reason=""):
    return figures.get(("boxoffice_sagas", (("reason", reason), ("status", status))), 0)


def test_metrics_refuse_anyone_but_operators(app, api, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    client = app.test_client()

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    buyer = client.get("/metrics", headers={"Authorization": f"Bearer {api.user()['token']}"})
    admin = client.get("/metrics", headers={"Authorization": f"Bearer {api.user('admin')['token']}"})
    assert buyer.status_code == 401 and set(buyer.get_json()) == {"code", "status", "message", "errors"}
    assert admin.status_code == 200 and b"boxoffice_sagas" in admin.data


def test_metrics_count_a_confirmed_a_declined_and_a_compensated_purchase(
        api, organizer, scrape, worker_processes):
    before = scrape()
    plain = api.event(organizer, capacity=5)
    failing = api.event(organizer, capacity=5, tier_name=FAIL_CONFIRM_TIER)
    ids = [api.start(api.user(), plain).get_json()["saga_id"],
           api.start(api.user(), plain, token="tok_chargeDeclined").get_json()["saga_id"],
           api.start(api.user(), failing).get_json()["saga_id"]]
    done = wait_terminal(ids)
    assert [done[i]["reason"] for i in ids] == [None, "payment_declined", "confirm_failed"]

    after = scrape()

    assert sagas(after, "confirmed") - sagas(before, "confirmed") == 1
    assert sagas(after, "canceled", "payment_declined") - sagas(before, "canceled", "payment_declined") == 1
    assert sagas(after, "canceled", "confirm_failed") - sagas(before, "canceled", "confirm_failed") == 1
    for step in ("reserve", "charge", "confirm", "refund", "release"):
        key = ("boxoffice_saga_step_duration_seconds_count", (("step", step),))
        assert after[key] > before.get(key, 0), step
    assert ("boxoffice_outbox_backlog", ()) in after
    assert after[("boxoffice_dead_letters", (("queue", "tickets.dead"),))] >= 0
    assert after[("boxoffice_broker_up", ())] == 1
    assert {"live", "overdue", "expired"} <= {dict(k[1]).get("state") for k in after
                                             if k[0] == "boxoffice_holds"}
