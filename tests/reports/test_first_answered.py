"""A respondent is a survey with an answered question: the store keeps when that first
happened (``first_answered_at``), and every figure counts respondents from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from gateway.engine.types import Event
from gateway.store.db import db_of
from gateway.store.models import Answer, Survey
from gateway.surveys.lifecycle import apply_event, survey_flow
from gateway.web.surveys import ensure_started
from tests.conftest import bearer
from tests.support.results import AddSurvey

OPTIONAL_FLOW = """\
id: quick-check
version: 1
title: Quick check
agency: dmv
questions:
  - id: satisfied
    type: rating
    optional: true
    a11: satisfaction
    prompt: How satisfied are you with the service?
  - id: comment
    type: text
    optional: true
    prompt: Anything else?
"""
REPORT = "/api/v1/reports/a11?flow=quick-check&fiscal_year=2027&quarter=1"
CREATED = datetime(2026, 10, 5, 9, tzinfo=UTC)


@pytest.fixture
def flows_dir(flows_dir: Path) -> Path:
    (flows_dir / "quick-check.yaml").write_text(OPTIONAL_FLOW, encoding="utf-8")
    return flows_dir


def web_survey(app: Flask, add_survey: AddSurvey) -> str:
    survey_id = add_survey("quick-check", CREATED, channel="web", status="sent")
    step(app, survey_id, None, CREATED)
    return survey_id


def step(app: Flask, survey_id: str, event: Event | None, now: datetime) -> Survey:
    """Apply one web event (``None``: open the survey) as the survey pages do."""
    with app.app_context(), db_of(app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        if event is None:
            ensure_started(session, survey, survey_flow(survey), now=now)
        else:
            apply_event(session, survey, event, now=now, max_reprompts=2)
        session.flush()
        session.expunge(survey)
        return survey


def respondents(client: FlaskClient, key: str) -> int:
    response = client.get(REPORT, headers=bearer(key))
    assert response.status_code == 200, response.json
    (row,) = [r for r in response.json["collection"] if r["channel"] == "website"]
    return int(row["volume_of_respondents"])


def test_opening_a_survey_does_not_make_a_respondent(
    app: Flask, client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    survey_id = web_survey(app, add_survey)
    with db_of(app).session() as session:
        assert session.get(Survey, survey_id).first_answered_at is None  # type: ignore[union-attr]
    assert respondents(client, dmv_key) == 0


def test_the_first_answer_makes_a_respondent_and_later_answers_keep_its_time(
    app: Flask, client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    survey_id = web_survey(app, add_survey)
    first = step(app, survey_id, Event("text", "4"), CREATED + timedelta(minutes=1))
    assert first.first_answered_at is not None
    later = step(app, survey_id, Event("text", "Thanks"), CREATED + timedelta(minutes=2))
    assert later.status == "completed"
    assert later.first_answered_at == first.first_answered_at
    assert respondents(client, dmv_key) == 1


def test_a_changed_answer_that_leaves_only_skips_is_no_longer_a_respondent(
    app: Flask, client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    survey_id = web_survey(app, add_survey)
    assert step(app, survey_id, Event("text", "4"), CREATED).first_answered_at is not None
    step(app, survey_id, Event("back"), CREATED + timedelta(minutes=1))
    skipped = step(app, survey_id, Event("text", None), CREATED + timedelta(minutes=2))
    assert skipped.first_answered_at is None
    assert respondents(client, dmv_key) == 0
    answered = step(app, survey_id, Event("text", "Slow"), CREATED + timedelta(minutes=3))
    assert answered.first_answered_at is not None
    assert respondents(client, dmv_key) == 1


def test_a_survey_whose_every_answer_was_skipped_is_not_a_respondent(
    app: Flask, client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    survey_id = web_survey(app, add_survey)
    step(app, survey_id, Event("text", None), CREATED)
    done = step(app, survey_id, Event("text", None), CREATED + timedelta(minutes=1))
    assert (done.status, done.first_answered_at) == ("completed", None)
    assert respondents(client, dmv_key) == 0


def test_each_answer_carries_its_surveys_creation_time(app: Flask, add_survey: AddSurvey) -> None:
    """The copy the results select answers by, written by the conversation's upsert."""
    survey_id = web_survey(app, add_survey)
    step(app, survey_id, Event("text", "5"), CREATED + timedelta(days=2))
    with db_of(app).session() as session:
        copied = session.scalars(
            sa.select(Answer.survey_created_at).where(Answer.survey_id == survey_id)
        ).all()
    assert copied == [CREATED]
