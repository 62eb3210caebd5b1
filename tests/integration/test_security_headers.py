"""Response headers are set deliberately; the docs page loads pinned files with SRI."""
import re

from api.security import SWAGGER_UI_VERSION


def test_every_answer_forbids_sniffing_framing_and_foreign_content(api):
    for r in (api.call("GET", "/events"), api.client.get("/healthz"),
              api.call("GET", "/nowhere"), api.client.get("/openapi.json")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_token_answers_are_never_cached(api):
    user = api.user()
    login = api.call("POST", "/auth/login", json={"email": user["email"], "password": "pass-word-1"})
    refresh = api.call("POST", "/auth/refresh", login.get_json()["refresh_token"])

    for r in (login, refresh):
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"


def test_the_docs_load_one_pinned_swagger_ui_with_integrity_and_no_inline_script(api):
    r = api.client.get("/docs")
    html = r.get_data(as_text=True)

    assert r.status_code == 200
    sources = re.findall(r'(?:src|href)="(https://[^"]+)"', html)
    assert sources and all(f"swagger-ui-dist@{SWAGGER_UI_VERSION}/" in s for s in sources)
    assert html.count('integrity="sha384-') == len(sources)
    assert "<script>" not in html  # the start-up script is a local file
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self' https://cdn.jsdelivr.net" in csp and "unsafe-inline" not in csp
    assert api.client.get("/static/swagger-init.js").status_code == 200


def test_the_graphiql_page_allows_only_its_own_inline_script(api):
    r = api.client.get("/graphql")

    csp = r.headers["Content-Security-Policy"]
    assert "'sha256-" in csp and "script-src 'self' https://unpkg.com" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
