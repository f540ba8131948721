"""Staff sign-in through OpenID Connect (authorization code + PKCE), against a fake
provider served on a local port."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey
from werkzeug.test import TestResponse

from config.settings import Settings
from gateway.app import create_app
from gateway.store.db import db_of
from tests.security.conftest import add_staff
from tests.security.fake_oidc import CLIENT_ID, FakeProvider, serve_provider
from tests.security.test_audit import audit_lines


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with serve_provider() as provider:
        yield provider


@pytest.fixture
def settings(settings: Settings, provider: FakeProvider) -> Settings:
    return dataclasses.replace(settings, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings, {"TESTING": True})
    yield app
    db_of(app).dispose()


def through_provider(client: FlaskClient) -> TestResponse:
    """Start the sign-in, let the provider answer, and bring its answer back."""
    start = client.get("/dashboard/oidc/login")
    assert start.status_code == 302
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_provider.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def test_the_sign_in_page_offers_the_identity_provider(client: FlaskClient) -> None:
    html = client.get("/dashboard/login").get_data(as_text=True)
    assert 'href="/dashboard/oidc/login"' in html


def test_the_provider_is_asked_for_a_code_with_a_pkce_challenge(
    client: FlaskClient, provider: FakeProvider
) -> None:
    start = client.get("/dashboard/oidc/login")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == ["https://gateway.example.gov/dashboard/oidc/callback"]
    assert query["nonce"] and query["state"]


def test_a_staff_member_named_by_the_provider_is_signed_in(
    app: Flask, client: FlaskClient, provider: FakeProvider, settings: Settings
) -> None:
    add_staff(app, "dmv", provider.email)
    answer = through_provider(client)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    assert provider.token_requests[0]["code_verifier"]
    actions = [(r[2], r[3]) for r in audit_lines(settings)]
    assert actions == [(f"staff:{provider.email}", "staff.signed_in")]


def test_an_email_without_a_staff_account_is_refused(
    client: FlaskClient, provider: FakeProvider
) -> None:
    provider.email = "stranger@example.com"
    answer = through_provider(client)
    assert answer.status_code == 403
    assert client.get("/dashboard/").status_code == 302  # still signed out


def test_an_unverified_email_is_refused(
    app: Flask, client: FlaskClient, provider: FakeProvider
) -> None:
    add_staff(app, "dmv", provider.email)
    provider.email_verified = False
    assert through_provider(client).status_code == 403


def test_a_callback_with_a_forged_state_is_refused(
    app: Flask, client: FlaskClient, provider: FakeProvider
) -> None:
    add_staff(app, "dmv", provider.email)
    client.get("/dashboard/oidc/login")
    answer = client.get("/dashboard/oidc/callback?code=made-up&state=forged")
    assert answer.status_code == 400
    assert client.get("/dashboard/").status_code == 302


def test_without_configuration_the_routes_are_missing(settings: Settings) -> None:
    plain = dataclasses.replace(settings, oidc_issuer=None, oidc_client_id=None)
    client = create_app(plain, {"TESTING": True}).test_client()
    assert client.get("/dashboard/oidc/login").status_code == 404
    assert "/dashboard/oidc/login" not in client.get("/dashboard/login").get_data(as_text=True)


def test_an_id_token_not_signed_by_the_providers_key_is_refused(
    app: Flask, client: FlaskClient, provider: FakeProvider
) -> None:
    add_staff(app, "dmv", provider.email)
    provider.forger = RSAKey.generate_key(2048, {"kid": "k1"})
    assert through_provider(client).status_code == 400
    assert client.get("/dashboard/").status_code == 302
