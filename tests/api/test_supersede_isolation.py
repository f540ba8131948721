"""One agency's survey to a number that supersedes another agency's open survey does not
show its id to the other agency (its ``failure_reason`` says only that a newer survey
came), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask

from config.settings import Settings
from gateway.app import create_app
from gateway.store.db import db_of
from gateway.surveys.lifecycle import SUPERSEDED_BY_ANOTHER
from tests.conftest import bearer, new_key


@pytest.fixture
def app(settings: Settings, database_url: str) -> Iterator[Flask]:
    app = create_app(dataclasses.replace(settings, database_url=database_url), {"TESTING": True})
    yield app
    db_of(app).dispose()


def test_another_agencys_survey_id_is_not_shown_in_failure_reason(app: Flask) -> None:
    client = app.test_client()
    dmv, irs = new_key(app, "dmv"), new_key(app, "irs")
    to = "+12025550123"
    first = client.post(
        "/api/v1/surveys",
        json={"flow": "quick-poll", "channel": "sms", "to": to},
        headers=bearer(dmv),
    ).json["id"]  # type: ignore[index]
    second = client.post(
        "/api/v1/surveys",
        json={"flow": "tax-call", "channel": "sms", "to": to},
        headers=bearer(irs),
    ).json["id"]  # type: ignore[index]
    seen = client.get(f"/api/v1/surveys/{first}", headers=bearer(dmv)).json
    assert seen is not None
    assert seen["status"] == "cancelled"
    assert seen["failure_reason"] == SUPERSEDED_BY_ANOTHER
    assert second not in str(seen)
