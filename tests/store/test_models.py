"""The store keeps times in UTC and refuses duplicates where the conversation relies on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from gateway.store.db import Database
from gateway.store.models import Answer, Message, OptOut, Survey
from gateway.store.sealing import contact_hash
from tests.store.conftest import add_survey


def test_times_come_back_timezone_aware_in_utc(database: Database) -> None:
    eastern = timezone(timedelta(hours=-5))
    survey_id = add_survey(database, send_at=datetime(2030, 1, 2, 9, 30, tzinfo=eastern))
    with database.session() as session:
        survey = session.get_one(Survey, survey_id)
        assert survey.send_at == datetime(2030, 1, 2, 14, 30, tzinfo=UTC)
        assert survey.send_at.tzinfo == UTC
        assert survey.created_at.tzinfo == UTC


def test_a_naive_time_is_refused(database: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        add_survey(database, send_at=datetime(2030, 1, 2, 9, 30))


def test_a_survey_id_is_public_and_unguessable(survey_id: str) -> None:
    assert survey_id.startswith("sv_")
    assert len(survey_id) == 23


def test_one_prompt_step_is_stored_once(database: Database, survey_id: str) -> None:
    def prompt() -> Message:
        return Message(
            survey_id=survey_id,
            direction="outbound",
            channel="sms",
            body="How satisfied were you?",
            step_key=f"{survey_id}:1",
            status="queued",
        )

    with database.session() as session:
        session.add(prompt())
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(prompt())


def test_a_webhook_delivered_twice_is_recognised_by_its_sid(database: Database) -> None:
    def inbound() -> Message:
        return Message(
            direction="inbound", channel="sms", body="5", provider_sid="SM123", status="received"
        )

    with database.session() as session:
        session.add(inbound())
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(inbound())


def test_messages_without_a_step_or_sid_may_repeat(database: Database) -> None:
    with database.session() as session:
        for _ in range(2):
            session.add(Message(direction="inbound", channel="sms", body="hi", status="received"))
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 2


def test_a_question_has_one_answer_row_per_survey(database: Database, survey_id: str) -> None:
    with database.session() as session:
        session.add(
            Answer(survey_id=survey_id, question_id="q1", raw="5", value=5, outcome="answered")
        )
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(
            Answer(survey_id=survey_id, question_id="q1", raw="4", value=4, outcome="answered")
        )


def test_answer_values_keep_their_json_type(database: Database, survey_id: str) -> None:
    with database.session() as session:
        session.add(
            Answer(
                survey_id=survey_id,
                question_id="why",
                raw="1 2",
                value=["wait", "staff"],
                outcome="answered",
            )
        )
        session.add(
            Answer(survey_id=survey_id, question_id="skip", raw=None, value=None, outcome="skipped")
        )
    with database.session() as session:
        survey = session.get_one(Survey, survey_id)
        assert {a.question_id: a.value for a in survey.answers} == {
            "why": ["wait", "staff"],
            "skip": None,
        }


def test_an_idempotency_key_is_unique_within_an_agency(database: Database, survey_id: str) -> None:
    with database.session() as session:
        first = session.get_one(Survey, survey_id)
        first.idempotency_key = "order-1"
    with pytest.raises(IntegrityError), database.session() as session:
        twin = Survey(
            agency_id=first.agency_id,
            flow_version_id=first.flow_version_id,
            flow_id="visit",
            channel="sms",
            contact="+12025550124",
            language="en",
            status="queued",
            idempotency_key="order-1",
        )
        session.add(twin)


def test_a_contact_is_opted_out_once(database: Database) -> None:
    with database.session() as session:
        session.add(
            OptOut(contact_hash=contact_hash("+12025550123"), channel="sms", keyword="STOP")
        )
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(
            OptOut(contact_hash=contact_hash("+12025550123"), channel="sms", keyword="QUIT")
        )


def test_messages_of_a_deleted_survey_cannot_dangle(database: Database) -> None:
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(
            Message(survey_id="sv_missing", direction="outbound", channel="sms", status="queued")
        )
