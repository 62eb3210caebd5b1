"""The API-key check, on SQLite: every route but the open ones needs a valid, unrevoked
key; an answer without one is 401 in the error format."""
import pytest

from workers.users import service as users

pytestmark = pytest.mark.usefixtures("sqlite_db")


@pytest.fixture(scope="module")
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
