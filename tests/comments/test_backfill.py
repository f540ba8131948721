"""Reading comments stored before they were read on arrival: themes filled in, crises
recorded but never routed, corrections kept when read again, answers masked on request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from gateway.agencies.keys import ensure_agency
from gateway.cli import main
from gateway.store.case_models import Case
from gateway.store.comment_models import CommentReading
from gateway.store.db import db_of
from gateway.store.models import Answer, Survey, utcnow
from gateway.store.results_models import Delivery
from gateway.surveys import comment_arrival
from gateway.surveys.comment_backfill import backfill
from gateway.surveys.flow_versions import flow_source, record_flow_version
from tests.sms.support import Gateway

WHEN = datetime(2026, 10, 5, 12, tzinfo=UTC)


def stored_comment(gw: Gateway, text: str) -> str:
    """A completed survey whose comment was stored before comments were read."""
    flow = gw.app.extensions["flows"].get("comment-visit")
    with db_of(gw.app).session() as session:
        agency = ensure_agency(session, "dmv")
        version = record_flow_version(session, flow, flow_source(flow))
        session.flush()
        survey = Survey(
            id="sv_" + uuid.uuid4().hex[:20], agency_id=agency.id, flow_version_id=version.id,
            flow_id=flow.id, channel="sms", contact="+12025550123", language="en",
            context={"office": "North"}, status="completed", created_at=WHEN,
        )  # fmt: skip
        session.add(survey)
        session.add(Answer(survey=survey, question_id="satisfied", value=2, outcome="answered"))
        session.add(
            Answer(
                survey=survey, question_id="comment", value=text, raw=text,
                outcome="answered", created_at=WHEN,
            )
        )  # fmt: skip
        return survey.id


def read_all(gw: Gateway, **options: bool) -> int:
    with db_of(gw.app).session() as session:
        done = backfill(session, comment_arrival.current_reader(), now=utcnow(), **options)
    return done.comments


def test_stored_comments_get_their_themes_once(gw: Gateway) -> None:
    survey_id = stored_comment(gw, "The website kept crashing and I waited on hold 2 hours")
    assert read_all(gw) == 1
    (reading,) = gw.rows(CommentReading, CommentReading.survey_id == survey_id)
    assert reading.themes == ["wait_time", "website", "phone_hold"]
    assert reading.office == "North" and reading.created_at == WHEN  # when it arrived
    assert read_all(gw) == 0  # nothing left unread


def test_an_old_crisis_is_recorded_but_never_routed(gw: Gateway) -> None:
    survey_id = stored_comment(gw, "I want to kill myself")
    read_all(gw)
    (reading,) = gw.rows(CommentReading, CommentReading.survey_id == survey_id)
    assert reading.crisis and reading.crisis_routed_at is None
    assert gw.rows(Delivery) == [] and gw.rows(Case) == []


def test_reading_again_keeps_staff_corrections(gw: Gateway) -> None:
    survey_id = stored_comment(gw, "The clerk was rude")
    read_all(gw)
    with db_of(gw.app).session() as session:
        reading = session.query(CommentReading).filter_by(survey_id=survey_id).one()
        reading.corrected_themes = ["fairness"]
    assert read_all(gw, again=True) == 1
    (reading,) = gw.rows(CommentReading, CommentReading.survey_id == survey_id)
    assert reading.themes == ["staff_courtesy"] and reading.current_themes == ["fairness"]


def test_redact_masks_the_stored_answer_itself(gw: Gateway) -> None:
    survey_id = stored_comment(gw, "my ssn is 123-45-6789")
    read_all(gw, redact=True)
    (answer,) = gw.rows(Answer, Answer.survey_id == survey_id, Answer.question_id == "comment")
    assert answer.value == answer.raw == "my ssn is [SSN]"


def test_the_taxonomy_check_names_the_line_of_each_problem(tmp_path: Path) -> None:
    broken = tmp_path / "taxonomy.yaml"
    broken.write_text("themes:\n  - id: fees\n    label: Fees\n    terms: {en: []}\n")
    result = CliRunner().invoke(main, ["comments", "check", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:4:17: theme 'fees': terms.en must not be empty" in result.output
    assert "1 file checked: 0 valid, 1 refused" in result.output
    shipped = CliRunner().invoke(main, ["comments", "check"])
    assert shipped.exit_code == 0, shipped.output


def test_reading_again_replaces_the_readers_columns_of_every_comment(gw: Gateway) -> None:
    rude = stored_comment(gw, "The clerk was rude")
    spanish = stored_comment(gw, "Esperé toda la mañana, pésimo servicio")
    read_all(gw)
    (first,) = gw.rows(CommentReading, CommentReading.survey_id == spanish)
    assert first.themes == ["wait_time"] and first.theme_terms["wait_time"]
    with db_of(gw.app).session() as session:
        for reading in session.query(CommentReading):
            reading.themes, reading.sentiment, reading.theme_terms = [], "positive", {}
    assert read_all(gw, again=True) == 2
    (again,) = gw.rows(CommentReading, CommentReading.survey_id == spanish)
    assert again.themes == first.themes and again.theme_terms == first.theme_terms
    assert again.sentiment == first.sentiment == "negative"
    (other,) = gw.rows(CommentReading, CommentReading.survey_id == rude)
    assert other.themes == ["staff_courtesy"] and other.sentiment == "negative"
