"""Response headers set deliberately, and the API docs page.

Every answer: no MIME sniffing, no framing, no referrer, and a Content Security Policy
that allows only the gateway's own scripts, styles and images (``default-src 'self'``),
so pages served from here with their own local JS and CSS work and nothing else loads.
JSON answers are ``Cache-Control: no-store`` (they are per caller; some carry tokens).

``/docs`` is Swagger UI pinned to one version, loaded with Subresource Integrity, and
started by a local script; its policy adds only that CDN. The GraphiQL page (strawberry's)
pins its files with SRI too; its policy adds their CDN and its one inline script by hash.
"""
from __future__ import annotations

import base64
import hashlib
import re

from flask import Blueprint, Flask, Response, render_template, request, url_for

SWAGGER_UI_VERSION = "5.31.0"
SWAGGER_UI_CDN = f"https://cdn.jsdelivr.net/npm/swagger-ui-dist@{SWAGGER_UI_VERSION}/"
#: sha384 of the files of that exact version (``npm pack swagger-ui-dist@5.31.0``)
SWAGGER_UI_SRI = {
    "swagger-ui-bundle.js": "sha384-cxafBeQ+zYROeFafGFxtFbnp1ICqeS9mG7+f0WWSHzhnrUvwg9Za5CCw6wgrHA7K",
    "swagger-ui.css": "sha384-KX9Rx9vM1AmUNAn07bPAiZhFD4C8jdNgG6f5MRNvR+EfAxs2PmMFtUUazui7ryZQ",
}
DOCS_ENDPOINT = "docs.swagger_ui"

BASE_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; "
               "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": BASE_POLICY,
}


def policy(*, scripts: str = "", styles: str = "") -> str:
    """The base policy, allowing scripts and styles from these sources as well."""
    extra = ""
    if scripts:
        extra += f"; script-src 'self' {scripts}"
    if styles:
        extra += f"; style-src 'self' {styles}"
    return BASE_POLICY + extra


def _secure_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "application/json" and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


docs = Blueprint("docs", __name__)


@docs.route("/docs")
def swagger_ui():
    html = render_template("swagger.html", cdn=SWAGGER_UI_CDN, sri=SWAGGER_UI_SRI,
                           spec_url=url_for("api-docs.openapi_json"),
                           init_url=url_for("static", filename="swagger-init.js"))
    return Response(html, headers={"Content-Security-Policy": policy(
        scripts="https://cdn.jsdelivr.net", styles="https://cdn.jsdelivr.net")})


def inline_script_hashes(html: str) -> str:
    """CSP sources allowing exactly the inline scripts (``<script>`` without attributes)
    of ``html``."""
    bodies = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    return " ".join("'sha256-%s'" % base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()
                    for b in bodies)


def init_security(app: Flask) -> None:
    app.register_blueprint(docs)
    app.after_request(_secure_headers)
