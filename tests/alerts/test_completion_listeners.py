"""A completed survey is heard by the alerts because building the app registers them:
every path that completes surveys (web app, worker, CLI) builds the app first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from config.settings import Settings
from gateway.alerts import delivery as alert_delivery
from gateway.alerts.rules import DISPATCH_KEY, survey_completed
from gateway.app import create_app
from gateway.engine.types import RecordedAnswer, SessionState, StepResult
from gateway.store.db import db_of
from gateway.store.models import Survey
from gateway.store.results_models import Delivery
from gateway.surveys import events, lifecycle
from tests.support.results import AddSurvey

HOOK = "https://hooks.dmv.example.gov/recovery"
OFFICE = "office@dmv.example.gov"
COMPLETED_AT = datetime(2026, 10, 5, 1, tzinfo=UTC)


@pytest.fixture
def app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An app built with no completion listener registered before it, as in a new process."""
    monkeypatch.setattr(events, "_listeners", [])
    app = create_app(settings, {"TESTING": True})
    yield app
    db_of(app).dispose()


def complete_distrusting(app: Flask, add_survey: AddSurvey) -> str:
    """Complete a survey whose answer matches the flow's ``distrust`` alert rule."""
    survey_id = add_survey(
        "visit-v2", datetime(2026, 10, 5, tzinfo=UTC), status="started", context={"office": "Main"}
    )
    result = StepResult(
        state=SessionState(channel="sms", language="en", status="completed"),
        answers=(RecordedAnswer("trust", "no", "no", "answered"),),
    )
    with app.app_context(), db_of(app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        lifecycle.apply_step(session, survey, result, COMPLETED_AT)
    return survey_id


def deliveries_of(app: Flask, survey_id: str) -> list[Delivery]:
    with db_of(app).session() as session:
        return list(
            session.scalars(
                sa.select(Delivery).where(Delivery.survey_id == survey_id).order_by(Delivery.id)
            )
        )


def test_a_survey_completed_in_the_app_records_and_queues_its_alert_deliveries(
    app: Flask, add_survey: AddSurvey, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[list[int]] = []
    monkeypatch.setitem(app.extensions, DISPATCH_KEY, lambda ids: queued.append(list(ids)))
    survey_id = complete_distrusting(app, add_survey)
    deliveries = deliveries_of(app, survey_id)
    assert sorted((d.kind, d.target, d.rule) for d in deliveries) == [
        ("email", OFFICE, "distrust"),
        ("webhook", HOOK, "distrust"),
    ]
    assert all(d.event == "alert" and d.status == "pending" for d in deliveries)
    assert queued == [[d.id for d in deliveries]]  # once, after the commit


def test_building_the_app_again_registers_the_alerts_once(
    settings: Settings, app: Flask, add_survey: AddSurvey, monkeypatch: pytest.MonkeyPatch
) -> None:
    heard: list[str] = []

    def counting(session: Session, survey: Survey) -> list[Delivery]:
        heard.append(survey.id)
        return survey_completed(session, survey)

    monkeypatch.setattr(events, "_listeners", [])
    monkeypatch.setattr(alert_delivery, "survey_completed", counting)
    others = [create_app(settings, {"TESTING": True}) for _ in range(2)]
    try:
        monkeypatch.setitem(others[1].extensions, DISPATCH_KEY, lambda ids: None)
        survey_id = complete_distrusting(others[1], add_survey)
    finally:
        for other in others:
            db_of(other).dispose()
    assert heard == [survey_id]
    assert len(deliveries_of(app, survey_id)) == 2


def test_a_listener_registered_twice_hears_a_completion_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(events, "_listeners", [])
    heard: list[str] = []

    def listener(session: Session, survey: Survey) -> None:
        heard.append(survey.id)

    events.on_completed(listener)
    events.on_completed(listener)
    events.completed(Session(), Survey(id="sv_once"))
    assert heard == ["sv_once"]
