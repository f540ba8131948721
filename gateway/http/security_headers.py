"""Browser-facing protections on every response: security headers, session cookie flags,
and the request body size limit (and the session cookie's signing, set up once).

The Content-Security-Policy allows only the gateway's own scripts, styles, fonts and
images (no inline script or style, no framing, forms posting only to the gateway), so
an injected ``<script>`` in a flow's text or an answer shown on the dashboard would not run.
HSTS is sent only over HTTPS (or when the public origin is HTTPS, behind a TLS proxy):
sent over plain HTTP it would lock a development server out of the browser. API and
dashboard responses carry ``Cache-Control: no-store``: they hold agencies' data, answers
and comments, which no browser, proxy or shared computer's cache should keep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, render_template, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway.http.errors import API_PREFIX, error_response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000; includeSubDomains"
#: The largest request body any page accepts (the API's own limit is smaller).
MAX_CONTENT_LENGTH = 256 * 1024

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


#: Responses under these paths are never stored by a cache (unless the view says otherwise).
NO_STORE_PREFIXES = ("/api/", "/dashboard")


def headers_for(https: bool) -> list[tuple[str, str]]:
    """The headers every response carries: :data:`HEADERS`, and HSTS over HTTPS (``https``:
    the request came over HTTPS, or the public origin is HTTPS)."""
    plain = list(HEADERS.items())
    return [*plain, ("Strict-Transport-Security", HSTS)] if https else plain


def _header_adder(public_https: bool) -> Callable[[Response], Response]:
    """The hook adding :func:`headers_for` to each response, keeping any a view set
    itself. Names are compared once per response, not once per header."""
    wanted = {
        https: [(name, value, name.lower()) for name, value in headers_for(https)]
        for https in (False, True)
    }

    def add_headers(response: Response) -> Response:
        headers = response.headers
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 (Headers)
        chosen = wanted[public_https or request.is_secure]
        headers.extend([(name, value) for name, value, key in chosen if key not in present])
        if (
            "cache-control" not in present
            and request.path.startswith(NO_STORE_PREFIXES)
            and not (request.endpoint or "").endswith(".static")
        ):
            headers["Cache-Control"] = "no-store"
        return response

    return add_headers


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, its signing serializer built once per set of keys
    rather than on every request (webhooks, which have no session, pay for it too)."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]


def _too_large(error: RequestEntityTooLarge) -> Response | tuple[str, int]:
    limit = request.max_content_length or MAX_CONTENT_LENGTH
    if request.path.startswith(API_PREFIX):
        message = f"the request body is larger than {limit // 1024} KiB"
        return error_response(413, "body_too_large", message)
    return render_template("security/too_large.html", limit_kib=limit // 1024), 413


def init_app(app: Flask) -> None:
    """Set the cookie flags and body limit (unless configured) and add the headers."""
    public = app.extensions["settings"].public_base_url or ""
    # Flask's defaults are present (None or False), so "unless configured" means falsy.
    defaults = {
        "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public.startswith("https://"),
    }
    for name, value in defaults.items():
        if not app.config.get(name):
            app.config[name] = value
    hops = app.extensions["settings"].trusted_proxy_hops
    if hops > 0:
        # The router's X-Forwarded-For and -Proto name the client's address (for per-address
        # rate limits and the audit log) and scheme (for HSTS); trusted only when configured,
        # since a client can send these headers itself.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.session_interface = SessionInterface()
    app.after_request(_header_adder(public.startswith("https://")))
    app.register_error_handler(RequestEntityTooLarge, _too_large)
