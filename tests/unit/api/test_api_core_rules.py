"""The API-key check, on SQLite: every route but the open ones needs a valid, unrevoked
key; an answer without one is 401 in the error format."""
import pytest

from workers.users import service as users

pytestmark = pytest.mark.usefixtures("sqlite_db")


@pytest.fixture
def client(sqlite_db):
    from api import create_app

    app = create_app()
    app.config["TESTING"] = True
    return app.test_client()


def events(client, key=None):
    return client.get("/events", headers={"X-API-Key": key} if key is not None else {})


def test_a_valid_key_opens_the_api(client):
    key = users.create_api_key("core-rules-valid")
    r = events(client, key)
    assert r.status_code == 200, r.get_json()
    assert users.api_key_client(key) == "core-rules-valid"


@pytest.mark.parametrize("key", [None, "", "bo_not-a-key", "not-prefixed", "bo_" + "x" * 120])
def test_a_missing_or_unknown_key_is_refused(client, key):
    r = events(client, key)
    assert r.status_code == 401
    assert r.get_json()["code"] == 401 and "X-API-Key" in r.get_json()["message"]


def test_a_revoked_key_is_refused(client):
    key = users.create_api_key("core-rules-revoked")
    users.revoke_api_key("core-rules-revoked")
    assert events(client, key).status_code == 401
    assert users.api_key_client(key) is None


def test_a_known_key_with_one_character_changed_is_refused(client):
    key = users.create_api_key("core-rules-altered")
    altered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert events(client, altered).status_code == 401


def test_health_needs_no_key_but_nothing_else_is_open(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/sagas").status_code == 401


def test_a_preflight_request_needs_no_key(client):
    assert client.options("/events").status_code == 200


def test_a_malformed_key_is_refused_without_asking_the_database(monkeypatch):
    def no_database():
        raise AssertionError("the database was asked about a malformed key")

    monkeypatch.setattr(users, "transaction", no_database)
    monkeypatch.setattr(users, "reading", no_database)
    for key in (None, "", "not-prefixed-" + "x" * 20, users.API_KEY_PREFIX + "x" * 98):
        assert users.api_key_client(key) is None


def test_a_key_of_the_longest_accepted_length_is_looked_up():
    from workers.db import transaction
    from workers.users.models import ApiKey

    key = users.API_KEY_PREFIX + "k" * (100 - len(users.API_KEY_PREFIX))
    with transaction() as s:
        s.add(ApiKey(name="core-rules-long", key_hash=users._key_hash(key), prefix=key[:10],
                     created_at=users.utcnow()))
    assert users.api_key_client(key) == "core-rules-long"
