"""Tokens stop working the moment they should: a refresh token works once, a password
change ends the other sessions, a closed account or a lost role counts at once."""
from concurrent.futures import ThreadPoolExecutor

from workers.users.service import set_role

NEW_PASSWORD = "a-new-pass-phrase-7"


def test_one_refresh_token_redeemed_in_parallel_wins_exactly_once(api):
    for _trial in range(4):
        user = api.user()
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: api.call("POST", "/auth/refresh", user["refresh"]),
                                    range(8)))

        codes = sorted(r.status_code for r in answers)
        assert codes == [200] + [401] * 7, codes
        assert all(r.status_code < 500 for r in answers)


def test_a_rotated_refresh_token_used_again_ends_its_whole_session(api):
    user = api.user()
    first = api.call("POST", "/auth/refresh", user["refresh"]).get_json()
    second = api.call("POST", "/auth/refresh", first["refresh_token"]).get_json()
    assert api.call("GET", "/users/me", second["access_token"]).status_code == 200

    reuse = api.call("POST", "/auth/refresh", user["refresh"])  # stolen, replayed

    assert reuse.status_code == 401
    for token in (second["access_token"], user["token"], first["access_token"]):
        assert api.call("GET", "/users/me", token).status_code == 401
    assert api.call("POST", "/auth/refresh", second["refresh_token"]).status_code == 401
    # another login is another session, untouched
    other = api.call("POST", "/auth/login", json={"email": user["email"],
                                                  "password": "pass-word-1"}).get_json()
    assert api.call("GET", "/users/me", other["access_token"]).status_code == 200


def test_changing_the_password_needs_the_current_one(api):
    user = api.user()

    missing = api.call("PATCH", "/users/me", user["token"], json={"password": NEW_PASSWORD})
    wrong = api.call("PATCH", "/users/me", user["token"],
                     json={"password": NEW_PASSWORD, "current_password": "not-my-password"})

    assert missing.status_code == 422
    assert "current_password" in missing.get_json()["errors"]["json"]
    assert wrong.status_code == 403
    assert api.call("POST", "/auth/login", json={"email": user["email"],
                                                 "password": "pass-word-1"}).status_code == 200


def test_a_password_change_ends_every_other_session(api):
    user = api.user()
    other = api.call("POST", "/auth/login", json={"email": user["email"],
                                                  "password": "pass-word-1"}).get_json()

    r = api.call("PATCH", "/users/me", user["token"],
                 json={"password": NEW_PASSWORD, "current_password": "pass-word-1"})

    assert r.status_code == 200, r.get_json()
    fresh = r.get_json()
    assert api.call("GET", "/users/me", fresh["access_token"]).status_code == 200
    assert api.call("POST", "/auth/refresh", fresh["refresh_token"]).status_code == 200
    for token in (other["access_token"], user["token"]):
        assert api.call("GET", "/users/me", token).status_code == 401
    for token in (other["refresh_token"], user["refresh"]):
        assert api.call("POST", "/auth/refresh", token).status_code == 401
    login = api.call("POST", "/auth/login", json={"email": user["email"], "password": NEW_PASSWORD})
    assert login.status_code == 200


def test_a_closed_account_can_do_nothing_with_the_tokens_of_its_other_sessions(api, organizer):
    event = api.event(organizer)
    user = api.user()
    other = api.call("POST", "/auth/login", json={"email": user["email"],
                                                  "password": "pass-word-1"}).get_json()

    assert api.call("DELETE", "/users/me", user["token"]).status_code == 204

    token = other["access_token"]
    for method, path in (("GET", "/tickets"), ("GET", "/sagas"), ("GET", "/users/me")):
        r = api.call(method, path, token)
        assert r.status_code == 401 and "closed" in r.get_json()["message"], (path, r.get_json())
    start = api.start({"token": token}, event)
    assert start.status_code == 401
    assert api.call("POST", "/auth/refresh", other["refresh_token"]).status_code == 401
    assert api.available(event) == event["tiers"][0]["available"]


def test_a_demoted_staff_member_is_refused_at_the_door_at_once(api, organizer):
    staff = api.user("staff")
    assert api.call("POST", "/checkin", staff["token"],
                    json={"code": "not-a-code"}).status_code == 404  # passes the role check

    set_role(email=staff["email"], role="buyer")

    r = api.call("POST", "/checkin", staff["token"], json={"code": "not-a-code"})
    assert r.status_code == 403


def test_a_promotion_counts_at_once_too(api):
    user = api.user()
    body = {"name": "x", "venue": "y", "starts_at": "2031-01-01T00:00:00+00:00",
            "tiers": [{"name": "a", "price_cents": 1, "currency": "EUR", "capacity": 1}]}
    assert api.call("POST", "/events", user["token"], json=body).status_code == 403

    set_role(email=user["email"], role="organizer")

    assert api.call("POST", "/events", user["token"], json=body).status_code == 201


def test_logout_ends_the_session_including_its_refresh_token(api):
    user = api.user()
    assert api.call("POST", "/auth/logout", user["token"], json={}).status_code == 204
    assert api.call("POST", "/auth/refresh", user["refresh"]).status_code == 401


def test_a_closed_accounts_purchase_in_graphql_is_refused(api, organizer):
    event, user = api.event(organizer), api.user()
    other = api.call("POST", "/auth/login", json={"email": user["email"],
                                                  "password": "pass-word-1"}).get_json()
    api.call("DELETE", "/users/me", user["token"])
    query = ("mutation($e: UUID!, $t: UUID!) { startPurchase(eventId: $e, tierId: $t, "
             "quantity: 1, paymentToken: \"tok_visa\") { sagaId } }")

    r = api.call("POST", "/graphql", other["access_token"], json={
        "query": query, "variables": {"e": event["id"], "t": event["tiers"][0]["id"]}})

    [error] = r.get_json()["errors"]
    assert error["extensions"]["code"] == 401
    assert r.get_json()["data"] is None


