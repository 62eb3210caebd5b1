"""Rules of the users service (accounts, passwords, API keys, closing), on a migrated SQLite file."""
import uuid
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from workers import runtime
from workers.bootstrap import bootstrap
from workers.db import transaction
from workers.steps import utcnow
from workers.users import service, sessions
from workers.users.errors import (
    ApiKeyNameTaken, ApiKeyNotFound, EmailTaken, InvalidCredentials, UserNotFound, WrongPassword,
)
from workers.users.models import ApiKey, RevokedToken, User

pytestmark = pytest.mark.usefixtures("sqlite_db")


@pytest.fixture(autouse=True)
def light_hashing(sqlite_db):
    """Argon2 as in production but at its lightest cost, so that each hash takes
    milliseconds: the rules are under test here, not the hash's strength (the process's
    root runs again with that hasher; sqlite_db restores the process's parts after)."""
    bootstrap(runtime.settings(), passwords=PasswordHasher(time_cost=1, memory_cost=1024,
                                                           parallelism=1))


def register(email="ann@example.com", password="ann-pass-1", **kwargs):
    return service.register(email=email, password=password, name="Ann", **kwargs)


def stored(user_id) -> User:
    with transaction() as s:
        return s.get(User, user_id)


# --- accounts and passwords --------------------------------------------------------------

def test_registering_makes_an_active_buyer_with_a_normalised_email_and_no_plain_password():
    user = register(email="  Ann@Example.COM ")

    assert (user["email"], user["role"], user["is_active"]) == ("ann@example.com", "buyer", True)
    row = stored(user["id"])
    assert "ann-pass-1" not in row.password_hash
    assert row.password_hash.startswith("$argon2")


def test_an_email_is_registered_once_whatever_its_case():
    register(email="ann@example.com")

    with pytest.raises(EmailTaken):
        register(email="ANN@example.com")


def test_login_needs_the_right_password_and_is_case_blind_on_the_email():
    user = register()

    assert service.authenticate(email="ANN@example.com", password="ann-pass-1")["id"] == user["id"]
    with pytest.raises(InvalidCredentials):
        service.authenticate(email="ann@example.com", password="wrong-pass")
    with pytest.raises(InvalidCredentials):
        service.authenticate(email="nobody@example.com", password="ann-pass-1")


def test_a_changed_password_replaces_the_old_one_and_ends_every_session():
    user = register()
    generation = service.get_user(user["id"])["token_generation"]

    service.update_profile(user["id"], name="Ann B", password="new-pass-2",
                           current_password="ann-pass-1")

    assert service.get_user(user["id"])["name"] == "Ann B"
    assert service.get_user(user["id"])["token_generation"] == generation + 1
    assert service.authenticate(email="ann@example.com", password="new-pass-2")["id"] == user["id"]
    with pytest.raises(InvalidCredentials):
        service.authenticate(email="ann@example.com", password="ann-pass-1")


def test_a_password_change_needs_the_current_password():
    user = register()

    with pytest.raises(WrongPassword):
        service.update_profile(user["id"], password="new-pass-2", current_password="wrong")

    assert service.authenticate(email="ann@example.com", password="ann-pass-1")["id"] == user["id"]


def test_create_admin_promotes_an_existing_account_and_resets_its_password():
    user = register()

    admin = service.create_admin(email="ann@example.com", password="admin-pass-1")

    assert (admin["id"], admin["role"]) == (user["id"], "admin")
    assert service.authenticate(email="ann@example.com", password="admin-pass-1")["role"] == "admin"


def test_set_role_changes_an_existing_account_only():
    user = register()

    service.set_role(email="ann@example.com", role="staff")

    assert service.get_user(user["id"])["role"] == "staff"
    with pytest.raises(UserNotFound):
        service.set_role(email="nobody@example.com", role="staff")


# --- closing an account ------------------------------------------------------------------

def test_a_deactivated_account_can_not_log_in_or_be_found():
    user = register()

    service.deactivate(user["id"])

    with pytest.raises(InvalidCredentials):
        service.authenticate(email="ann@example.com", password="ann-pass-1")
    assert service.get_user(user["id"]) is None
    with pytest.raises(UserNotFound):
        service.update_profile(user["id"], name="X")
    with pytest.raises(UserNotFound):
        service.deactivate(user["id"])


def test_closing_an_account_deactivates_it_and_asks_for_its_anonymisation(sent):
    user = register()

    service.close_account(user["id"])

    assert stored(user["id"]).is_active is False
    assert sent.names() == ["users.anonymise"]
    (command,), = sent.args_of("users.anonymise")
    assert (command["contract"], command["user_id"]) == ("AnonymiseUser", str(user["id"]))


def test_an_account_closed_while_the_broker_is_down_is_anonymised_once_it_is_back(
        broker_down, monkeypatch):
    from workers import outbox
    from workers.celery_app import app

    user = register()
    service.close_account(user["id"])  # answers: the request is not failed by the broker
    assert stored(user["id"]).is_active is False

    delivered = []  # the broker is back: the relay hands the command to the users queue
    monkeypatch.setattr(app, "send_task", lambda name, args=None, **o: delivered.append(name))
    assert outbox.relay(older_than_seconds=0) == 1
    assert delivered == ["users.anonymise"]


def test_closing_an_unknown_account_asks_for_nothing(sent):
    with pytest.raises(UserNotFound):
        service.close_account(uuid.uuid4())

    assert sent.messages == []


def test_anonymising_scrubs_a_closed_account_and_frees_its_email():
    user = register()
    service.deactivate(user["id"])

    service.anonymise(user["id"])

    row = stored(user["id"])
    assert (row.email, row.name, row.password_hash) == (f"deleted-{user['id']}@invalid", "", "!")
    assert register()["id"] != user["id"]


def test_anonymising_leaves_an_active_account_alone():
    user = register()

    service.anonymise(user["id"])

    row = stored(user["id"])
    assert (row.email, row.name) == ("ann@example.com", "Ann")
    assert service.authenticate(email="ann@example.com", password="ann-pass-1")


# --- API keys ----------------------------------------------------------------------------

def test_an_api_key_names_its_client_and_only_its_hash_is_kept():
    key = service.create_api_key("box-app")

    assert key.startswith(service.API_KEY_PREFIX)
    assert service.api_key_client(key) == "box-app"
    with transaction() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.name == "box-app"))
    assert row.key_hash != key and key[len(service.API_KEY_PREFIX):] not in row.key_hash
    assert row.prefix == key[:10]


@pytest.mark.parametrize("key", ["", "bo_not-a-key", "no-prefix", "bo_" + "x" * 200])
def test_an_unknown_or_malformed_key_names_no_client(key):
    service.create_api_key("box-app")

    assert service.api_key_client(key) is None


def test_a_key_name_is_taken_once():
    service.create_api_key("box-app")

    with pytest.raises(ApiKeyNameTaken):
        service.create_api_key("box-app")


def test_a_revoked_key_is_refused_at_once_and_revoked_once():
    key, other = service.create_api_key("box-app"), service.create_api_key("door-app")

    service.revoke_api_key("box-app")

    assert service.api_key_client(key) is None
    assert service.api_key_client(other) == "door-app"
    with pytest.raises(ApiKeyNotFound):
        service.revoke_api_key("box-app")
    with pytest.raises(ApiKeyNotFound):
        service.revoke_api_key("never-issued")


def test_a_key_depends_on_the_pepper(monkeypatch):
    from settings import reset_settings

    key = service.create_api_key("box-app")
    monkeypatch.setenv("API_KEY_PEPPER", "another-pepper-0123456789")
    reset_settings()
    bootstrap()

    assert service.api_key_client(key) is None


# --- revoked tokens ----------------------------------------------------------------------

def test_a_refresh_token_is_redeemed_once_and_expired_revocations_are_forgotten():
    sessions.revoke("old-jti", utcnow() - timedelta(minutes=1))

    first = sessions.redeem("jti-1", utcnow() + timedelta(minutes=15))
    again = sessions.redeem("jti-1", utcnow() + timedelta(minutes=15))

    assert (first, again) == (True, False)
    with transaction() as s:
        assert [t.jti for t in s.scalars(select(RevokedToken))] == ["jti-1"]


def test_a_token_of_an_ended_session_or_an_old_generation_is_refused():
    user = register()
    generation = service.get_user(user["id"])["token_generation"]

    assert sessions.token_state(user["id"], "a", "fam", generation).refusal is None
    assert sessions.token_state(user["id"], "a", "fam", generation - 1).refusal is not None
    sessions.end_session("fam", utcnow() + timedelta(minutes=15))
    assert sessions.token_state(user["id"], "a", "fam", generation).refusal == "this session has ended"
