"""The OpenAPI document describes what the gateway does and who may call it."""


def test_the_openapi_document_lists_every_route_and_its_security(api, app):
    doc = api.client.get("/openapi.json").get_json()  # no key needed

    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    assert {"/users", "/auth/login", "/events", "/saga/start", "/sagas/{saga_id}",
            "/tickets", "/checkin", "/healthz", "/readyz"} <= set(paths)
    assert paths["/saga/start"]["post"]["security"] == [{"apiKey": [], "bearer": []}]
    assert paths["/healthz"]["get"]["security"] == []
    # the key alone, or with a bearer token to see more
    assert paths["/events"]["get"]["security"] == [{"apiKey": []}, {"apiKey": [], "bearer": []}]
    assert doc["security"] == [{"apiKey": []}]
    assert "422" in paths["/saga/start"]["post"]["responses"]


def test_cancel_sales_and_notifications_are_documented_with_their_answers(api):
    paths = api.client.get("/openapi.json").get_json()["paths"]
    bearer = [{"apiKey": [], "bearer": []}]

    cancel = paths["/sagas/{saga_id}/cancel"]["post"]
    assert cancel["security"] == bearer and {"200", "202", "404", "409"} <= set(cancel["responses"])
    for path in ("/events/{event_id}/sagas", "/events/{event_id}/sales",
                 "/users/me/notifications"):
        assert paths[path]["get"]["security"] == bearer, path
    sales = paths["/events/{event_id}/sales"]["get"]["responses"]
    assert "404" in sales and "200" in sales
    assert "status" in {p["name"] for p in paths["/events/{event_id}/sagas"]["get"]["parameters"]}


def test_list_routes_document_every_query_parameter_they_accept(api):
    paths = api.client.get("/openapi.json").get_json()["paths"]

    def query(path):
        return {p["name"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"}

    assert query("/events") == {"limit", "cursor", "mine", "status", "from", "to", "venue", "q"}
    assert query("/sagas") == {"limit", "cursor", "status"}
    quantity = api.client.get("/openapi.json").get_json()["components"]["schemas"][
        "StartPurchaseIn"]["properties"]["quantity"]
    assert (quantity["type"], quantity["maximum"]) == ("integer", 100)


def test_swagger_ui_is_served_at_docs(api):
    r = api.client.get("/docs")

    assert r.status_code == 200 and b"swagger" in r.data.lower()


def test_readiness_reports_each_dependency(api):
    body = api.client.get("/readyz").get_json()

    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "broker": "ok", "redis": "ok"}
