"""The saga dashboard: its own login, CSRF on every form, staff may look, admins act."""
import re
import uuid


from tests.integration.conftest import wait_terminal

PASSWORD = "pass-word-1"


def logged_in(app, api, role):
    user = api.user(role)
    client = app.test_client()
    page = client.get("/dashboard/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    r = client.post("/dashboard/login", data={"email": user["email"], "password": PASSWORD,
                                              "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("boxoffice_dashboard=") and "HttpOnly" in cookie
    assert "Path=/dashboard" in cookie and "SameSite=Strict" in cookie
    return client


def csrf_of(client, path="/dashboard"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def dashboard_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("dashboard.") and rule.endpoint not in (
                "dashboard.static", "dashboard.login"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule.rule.replace("<uuid:saga_id>", str(uuid.uuid4()))


def test_every_dashboard_route_needs_a_login(app):
    client = app.test_client()
    checked = 0
    for method, path in dashboard_routes(app):
        r = client.open(path, method=method)
        if method == "GET" and not path.endswith(".json"):
            assert r.status_code == 302 and "/dashboard/login" in r.location, (method, path)
        else:
            assert r.status_code in (400, 401), (method, path, r.status_code)
        checked += 1
    assert checked >= 7


def test_assets_are_served_by_the_app_and_pages_have_no_inline_script_or_style(app, api):
    client = logged_in(app, api, "admin")
    html = client.get("/dashboard").get_data(as_text=True)

    assert client.get("/dashboard/static/dashboard.js").status_code == 200
    assert client.get("/dashboard/static/dashboard.css").status_code == 200
    assert "<script>" not in html and "<style" not in html and 'style="' not in html
    assert re.findall(r'<script src="([^"]+)"', html) == ["/dashboard/static/dashboard.js"]


def test_buyers_and_wrong_passwords_cannot_log_in(app, api):
    buyer = api.user()
    client = app.test_client()
    token = csrf_of(client, "/dashboard/login")

    wrong = client.post("/dashboard/login", data={"email": buyer["email"], "password": "nope",
                                                  "csrf_token": token})
    not_staff = client.post("/dashboard/login", data={"email": buyer["email"],
                                                      "password": PASSWORD, "csrf_token": token})
    no_token = app.test_client().post("/dashboard/login", data={"email": buyer["email"],
                                                                "password": PASSWORD})

    assert wrong.status_code == 401 and "wrong email or password" in wrong.get_data(as_text=True)
    assert not_staff.status_code == 401 and "admin and staff" in not_staff.get_data(as_text=True)
    assert no_token.status_code == 400
    assert client.get("/dashboard").status_code == 302


def test_the_list_counts_and_filters_sagas(app, api, organizer, worker_processes):
    event = api.event(organizer, capacity=5)
    ok = api.start(api.user(), event).get_json()["saga_id"]
    declined = api.start(api.user(), event, token="tok_chargeDeclined").get_json()["saga_id"]
    wait_terminal([ok, declined])
    client = logged_in(app, api, "staff")

    data = client.get(f"/dashboard/sagas.json?event={event['id']}").get_json()
    canceled = client.get(f"/dashboard/sagas.json?event={event['id']}&status=canceled"
                          "&reason=payment_declined").get_json()
    page = client.get(f"/dashboard/sagas/{ok}").get_data(as_text=True)

    assert {r["id"]: r["status"] for r in data["items"]} == {ok: "confirmed", declined: "canceled"}
    assert data["counts"]["confirmed"] >= 1 and data["counts"]["canceled"] >= 1
    assert set(data["dead_letters"]) == {"tickets.dead", "payments.dead",
                                         "orchestration.dead", "users.dead"}
    assert [r["id"] for r in canceled["items"]] == [declined]
    assert "reserve" in page and "confirm" in page and "charged" in page
    assert client.get("/dashboard/sagas.json?status=bogus").status_code == 400


def test_staff_may_look_but_not_act_and_a_form_without_its_token_is_refused(
        app, api, organizer, worker_processes):
    event = api.event(organizer)
    saga_id = api.start(api.user(), event, token="tok_chargeDeclined").get_json()["saga_id"]
    wait_terminal([saga_id])
    staff, admin = logged_in(app, api, "staff"), logged_in(app, api, "admin")

    as_staff = staff.post(f"/dashboard/sagas/{saga_id}/retry",
                          data={"csrf_token": csrf_of(staff)})
    forged = admin.post(f"/dashboard/sagas/{saga_id}/retry", data={"csrf_token": "forged"})
    finished = admin.post(f"/dashboard/sagas/{saga_id}/retry",
                          data={"csrf_token": csrf_of(admin)}, follow_redirects=True)

    assert as_staff.status_code == 403
    assert forged.status_code == 400
    assert "already canceled" in finished.get_data(as_text=True)
