"""Fixtures for phone surveys: a call simulator signed like Twilio, and store lookups.

Every phone test runs on SQLite and on PostgreSQL: on PostgreSQL the common step of a call
is served by gateway.voice.quick_step, on SQLite by the general path of gateway.voice.calls, and
both must behave alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from config.settings import Settings
from gateway.store.db import db_of
from gateway.store.models import Survey
from gateway.twilio.signature import DEVELOPMENT_AUTH_TOKEN
from gateway.voice import webhooks as voice
from tests.voice.call_simulator import CallSimulator, flask_transport


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    return replace(settings, database_url=database_url)


@pytest.fixture
def phone(app: Flask, client: FlaskClient) -> CallSimulator:
    settings = app.extensions["settings"]
    return CallSimulator(
        flask_transport(client),
        auth_token=DEVELOPMENT_AUTH_TOKEN,
        base_url=settings.public_base_url,
    )


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with db_of(app).session() as session:
        yield session


def survey_of_call(app: Flask, call_sid: str) -> Survey:
    """The survey a call started, with its answers loaded, read fresh from the store."""
    with db_of(app).session() as session:
        survey = session.scalars(sa.select(Survey).where(Survey.provider_ref == call_sid)).one()
        survey.answers  # noqa: B018 - loads them before the session closes
        survey.messages  # noqa: B018
        return survey


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each step was served by the quick path (True) or left to the general one."""
    outcomes: list[bool] = []
    quick = voice.quick_step

    def counted(*args: Any, **kwargs: Any) -> str | None:
        twiml = quick(*args, **kwargs)
        outcomes.append(twiml is not None)
        return twiml

    monkeypatch.setattr(voice, "quick_step", counted)
    return outcomes
