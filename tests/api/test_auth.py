"""Every API request needs a live key of its agency; every error is JSON."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from gateway.store.db import db_of
from gateway.store.models import ApiKey, utcnow
from tests.conftest import bearer


def test_a_request_without_a_key_is_refused_with_a_bearer_challenge(client: FlaskClient) -> None:
    response = client.get("/api/v1/responses")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json is not None
    assert response.json["error"]["code"] == "unauthorized"


def test_a_malformed_authorization_header_is_refused(client: FlaskClient, dmv_key: str) -> None:
    response = client.get("/api/v1/responses", headers={"Authorization": f"Basic {dmv_key}"})
    assert response.status_code == 401


def test_an_unknown_key_is_refused(client: FlaskClient, dmv_key: str) -> None:
    wrong = dmv_key[:-4] + ("aaaa" if not dmv_key.endswith("aaaa") else "bbbb")
    response = client.get("/api/v1/responses", headers=bearer(wrong))
    assert response.status_code == 401
    assert response.json is not None
    assert response.json["error"]["message"] == "unknown API key"


def test_a_valid_key_is_accepted_and_its_use_noted(
    app: Flask, client: FlaskClient, dmv_key: str
) -> None:
    response = client.get("/api/v1/responses", headers=bearer(dmv_key))
    assert response.status_code == 200
    with db_of(app).session() as session:
        assert session.scalars(sa.select(ApiKey.last_used_at)).one() is not None


def test_a_revoked_key_is_refused(app: Flask, client: FlaskClient, dmv_key: str) -> None:
    with db_of(app).session() as session:
        session.execute(sa.update(ApiKey).values(revoked_at=utcnow()))
    assert client.get("/api/v1/responses", headers=bearer(dmv_key)).status_code == 401


def test_an_expired_key_is_refused(app: Flask, client: FlaskClient, dmv_key: str) -> None:
    with db_of(app).session() as session:
        session.execute(sa.update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/v1/responses", headers=bearer(dmv_key)).status_code == 401


def test_an_unknown_api_path_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json is not None
    assert response.json["error"]["code"] == "not_found"


def test_a_wrong_method_is_a_json_405(client: FlaskClient, dmv_key: str) -> None:
    response = client.delete("/api/v1/surveys", headers=bearer(dmv_key))
    assert response.status_code == 405
    assert response.json is not None
    assert response.json["error"]["code"] == "method_not_allowed"


def test_an_oversized_body_is_a_json_413(client: FlaskClient, dmv_key: str) -> None:
    response = client.post(
        "/api/v1/surveys",
        data='{"flow": "' + "x" * 100_000 + '"}',
        content_type="application/json",
        headers=bearer(dmv_key),
    )
    assert response.status_code == 413
    assert response.json is not None
    assert response.json["error"]["code"] == "body_too_large"
