"""Accounts: register, profile, and closing an account."""
import uuid

import pytest

from harness.processes import wait_for
from workers.db import transaction
from workers.users.models import User


def test_registering_the_same_email_twice_is_409(api):
    body = {"email": f"x-{uuid.uuid4().hex[:8]}@example.com", "password": "pass-word-1",
            "name": "X"}
    assert api.call("POST", "/users", json=body).status_code == 201
    assert api.call("POST", "/users", json=body).status_code == 409


def test_a_wrong_password_is_401(api):
    user = api.user()
    r = api.call("POST", "/auth/login", json={"email": user["email"], "password": "nope-nope"})
    assert r.status_code == 401


def test_profile_can_be_read_and_changed(api):
    user = api.user()
    assert api.call("GET", "/users/me", user["token"]).get_json()["email"] == user["email"]

    r = api.call("PATCH", "/users/me", user["token"], json={"name": "New Name"})

    assert r.status_code == 200 and r.get_json()["name"] == "New Name"


@pytest.mark.usefixtures("worker_processes")
def test_closing_an_account_stops_logins_and_scrubs_personal_data(api):
    user = api.user()

    assert api.call("DELETE", "/users/me", user["token"]).status_code == 204

    login = api.call("POST", "/auth/login", json={"email": user["email"], "password": "pass-word-1"})
    assert login.status_code == 401
    assert api.call("GET", "/users/me", user["token"]).status_code == 401

    def scrubbed():
        with transaction() as s:
            row = s.get(User, uuid.UUID(user["id"]))
            return row.email.startswith("deleted-") and row.name == ""
    wait_for(scrubbed, timeout=30, what="the users worker to anonymise the account")
