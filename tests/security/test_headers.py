"""Security headers on every response, session cookie flags, body size and rate limits."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import Settings
from gateway.app import create_app
from gateway.http.security_headers import CONTENT_SECURITY_POLICY
from tests.conftest import bearer, new_key
from tests.security.conftest import add_staff, sign_in

PATHS = [
    "/healthz",
    "/dashboard/login",
    "/api/v1/responses",
    "/api/v1/nowhere",
    "/f/dmv-visit",
    "/s/not-a-token",
    "/static/uswds/css/uswds.min.css",
]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    with client.get(path) as response:
        headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize(
    "path", ["/api/v1/responses", "/api/v1/nowhere", "/dashboard/login", "/dashboard/"]
)
def test_api_and_dashboard_responses_are_never_stored_by_a_cache(
    client: FlaskClient, dmv_key: str, path: str
) -> None:
    response = client.get(path, headers=bearer(dmv_key))
    assert response.headers["Cache-Control"] == "no-store"


def test_a_signed_in_dashboard_page_is_never_stored_by_a_cache(app: Flask) -> None:
    add_staff(app, "dmv", "pat@dmv.example.gov")
    client = app.test_client()
    assert sign_in(client, "pat@dmv.example.gov") == 302
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_the_policy_forbids_inline_script_and_framing() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_hsts_is_left_out_on_plain_http_without_an_https_origin(
    settings: Settings,
) -> None:
    app = create_app(dataclasses.replace(settings, public_base_url=None), {"TESTING": True})
    assert "Strict-Transport-Security" not in app.test_client().get("/healthz").headers
    secure = app.test_client().get("/healthz", base_url="https://localhost")
    assert "Strict-Transport-Security" in secure.headers


def test_the_staff_session_cookie_is_secure_httponly_and_lax(app: Flask) -> None:
    add_staff(app, "dmv", "pat@dmv.example.gov")
    client = app.test_client()
    client.get("/dashboard/login")
    token = client.get_cookie("session")
    assert token is not None
    assert token.secure and token.http_only and token.same_site == "Lax"
    assert sign_in(client, "pat@dmv.example.gov") == 302


def test_an_oversized_api_body_is_a_json_413(client: FlaskClient, dmv_key: str) -> None:
    body = {"flow": "dmv-visit", "channel": "sms", "to": "+12025550123", "x": "a" * 100_000}
    response = client.post("/api/v1/surveys", json=body, headers=bearer(dmv_key))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "body_too_large"


def test_an_oversized_form_gets_a_friendly_page(client: FlaskClient) -> None:
    survey_page = client.get("/f/dmv-visit", follow_redirects=True)
    assert survey_page.status_code == 200
    response = client.post(survey_page.request.path, data={"answer": "a" * 300_000})
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "Too much was sent" in response.get_data(as_text=True)


def test_an_api_key_over_its_rate_limit_gets_429_with_retry_after(
    settings: Settings,
) -> None:
    app = create_app(settings, {"TESTING": True, "API_RATE_LIMIT": 3})
    client = app.test_client()
    key, other = new_key(app, "dmv"), new_key(app, "irs")
    statuses = [client.get("/api/v1/responses", headers=bearer(key)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/responses", headers=bearer(key))
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert client.get("/api/v1/responses", headers=bearer(other)).status_code == 200


def test_an_address_over_the_public_page_limit_gets_429_with_retry_after(
    settings: Settings,
) -> None:
    app = create_app(settings, {"TESTING": True, "PUBLIC_RATE_LIMIT": 2})
    client = app.test_client()
    statuses = [client.get("/dashboard/login").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = client.get("/s/not-a-token")
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Please wait a moment" in refused.get_data(as_text=True)
    other = client.get("/dashboard/login", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(
    settings: Settings,
) -> None:
    proxied = dataclasses.replace(settings, trusted_proxy_hops=1, public_base_url=None)
    client = create_app(proxied, {"TESTING": True, "PUBLIC_RATE_LIMIT": 1}).test_client()
    first = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    second = {"X-Forwarded-For": "203.0.113.8"}
    assert client.get("/dashboard/login", headers=first).status_code == 200
    assert client.get("/dashboard/login", headers=first).status_code == 429
    assert client.get("/dashboard/login", headers=second).status_code == 200
    assert "Strict-Transport-Security" in client.get("/healthz", headers=first).headers


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(settings: Settings) -> None:
    client = create_app(settings, {"TESTING": True, "PUBLIC_RATE_LIMIT": 1}).test_client()
    assert (
        client.get("/dashboard/login", headers={"X-Forwarded-For": "203.0.113.7"}).status_code
        == 200
    )
    spoofed = client.get("/dashboard/login", headers={"X-Forwarded-For": "203.0.113.8"})
    assert spoofed.status_code == 429
