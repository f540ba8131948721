"""The common step of a call on PostgreSQL (gateway.voice.quick_step) against the general
path: the same documents, the same rows, one answer however often a Gather arrives."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from gateway.agencies.keys import ensure_agency
from gateway.alerts.rules import DISPATCH_KEY
from gateway.store import db as db_module
from gateway.store.db import db_of
from gateway.store.models import Answer, Message, Survey
from gateway.store.results_models import Delivery, WebhookSubscription
from gateway.voice import quick_step as call_quick_step
from gateway.voice import webhooks as voice
from tests.voice.call_simulator import CallSimulator, SimulatedCall
from tests.voice.conftest import survey_of_call

pytestmark = pytest.mark.postgres

CALL_CENTER = "/twilio/voice?flow=call-center-post-call&agent=Maria&queue=benefits"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE7"
SURVEY_ID = re.compile(r"sv_[A-Za-z0-9_-]+")


@pytest.fixture
def database_url(migrated_postgres_url: str) -> str:
    """PostgreSQL only: the quick path serves nothing on SQLite."""
    return migrated_postgres_url


@pytest.fixture(autouse=True)
def _empty_store(app: Flask) -> Any:
    yield
    tables = ", ".join(t.name for t in Survey.metadata.sorted_tables)
    with db_of(app).engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def whole_call(phone: CallSimulator) -> SimulatedCall:
    """The language menu, Spanish, a bad key, silence, three answers and a recording."""
    call = phone.dial(CALL_CENTER)
    call.press("9").press("7").silence().press("1").press("4")
    return call.record(RECORDING, 9)


def stored(app: Flask, call: SimulatedCall) -> dict[str, Any]:
    survey = survey_of_call(app, call.sid)
    return {
        "status": survey.status,
        "language": survey.language,
        "state": survey.state,
        "answered": survey.first_answered_at is not None,
        "completed": survey.completed_at is not None,
        "answers": [(a.question_id, a.raw, a.value, a.outcome) for a in survey.answers],
        "messages": [
            (
                m.direction,
                m.status,
                m.body,
                SURVEY_ID.sub("SV", m.step_key or ""),
                m.from_addr,
                m.to_addr,
                m.contact_hash,
            )
            for m in survey.messages
        ],
    }


def test_the_quick_path_stores_and_says_what_the_general_path_does(
    app: Flask,
    phone: CallSimulator,
    served: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quick_call = whole_call(phone)
    assert served.count(True) >= 5, served
    served.clear()
    monkeypatch.setattr(voice, "quick_step", lambda *args, **kwargs: None)
    general_call = whole_call(phone)

    def documents(call: SimulatedCall) -> list[str]:
        return [SURVEY_ID.sub("SV", document) for document in call.documents]

    assert documents(quick_call) == documents(general_call)
    assert quick_call.heard[-1] == general_call.heard[-1]
    quick, general = stored(app, quick_call), stored(app, general_call)
    assert quick == general
    assert quick["status"] == "completed" and quick["language"] == "es"
    assert [a[0] for a in quick["answers"]] == ["resolved", "agent_helpful", "comment"]


def test_a_gather_delivered_many_times_at_once_records_one_answer(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(CALL_CENTER + "&language=en").press("1")
    gather = phone.url(call.waiting.action)
    first_document = call.documents[-1]

    def post(_: int) -> tuple[int, str]:
        return call.repost(gather, {"Digits": "2"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(post, range(16)))
    assert {status for status, _body in results} == {200}
    documents = {body for _status, body in results}
    assert len(documents) == 1, "every delivery heard the same next step"
    assert first_document not in documents
    with db_of(app).session() as session:
        survey = session.scalars(sa.select(Survey).where(Survey.provider_ref == call.sid)).one()
        answers = session.execute(
            sa.select(Answer.question_id, Answer.value).where(Answer.survey_id == survey.id)
        ).all()
        received = session.scalar(
            sa.select(sa.func.count(Message.id)).where(
                Message.survey_id == survey.id, Message.direction == "inbound"
            )
        )
        spoken = session.scalar(
            sa.select(sa.func.count(Message.id)).where(
                Message.survey_id == survey.id, Message.direction == "outbound"
            )
        )
    assert sorted(answers) == [("agent_helpful", 2), ("resolved", "yes")]
    assert received == 2, "one row per step answered, none for the repeats"
    assert spoken == 3


def test_a_completion_with_a_webhook_to_deliver_goes_through_the_general_path(
    app: Flask, phone: CallSimulator, served: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatched: list[object] = []
    # Deliveries are queued, not sent: nothing leaves the test.
    monkeypatch.setitem(app.extensions, DISPATCH_KEY, dispatched.append)
    with db_of(app).session() as session:
        agency = ensure_agency(session, "demo")
        session.add(WebhookSubscription(agency_id=agency.id, url="https://hooks.example.gov/a"))
    call = phone.dial(CALL_CENTER + "&language=en").press("1").press("5")
    call.record(RECORDING, 4)
    assert served == [True, True, False]
    survey = survey_of_call(app, call.sid)
    assert survey.status == "completed"
    with db_of(app).session() as session:
        events = session.scalars(sa.select(Delivery.event).where(Delivery.survey_id == survey.id))
        assert list(events) == ["survey.completed"]
    assert len(dispatched) == 1


def test_a_step_read_before_another_delivery_stored_it_writes_nothing(
    app: Flask, phone: CallSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = phone.dial(CALL_CENTER + "&language=en")
    gather = phone.url(call.waiting.action)
    engine_step = call_quick_step.step
    raced: list[str] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        # Between the quick path's read and its write, the same Gather is stored by
        # another delivery (through the general path).
        if not raced:
            monkeypatch.setattr(voice, "quick_step", lambda *a, **k: None)
            raced.append(call.repost(gather, {"Digits": "1"})[1])
            monkeypatch.setattr(voice, "quick_step", call_quick_step.quick_step)
        result: Callable[..., Any] = engine_step
        return result(*args, **kwargs)

    monkeypatch.setattr(call_quick_step, "step", racing)
    status, body = call.repost(gather, {"Digits": "2"})
    assert status == 200
    assert body == raced[0], "the late delivery hears the step the first one stored"
    assert {a.question_id: a.value for a in survey_of_call(app, call.sid).answers} == {
        "resolved": "yes"
    }


def test_the_end_of_a_completed_call_is_read_and_changes_nothing(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(CALL_CENTER + "&language=en").press("1").press("5")
    call.record(RECORDING, 4)  # the survey completes, the call ends, its status is posted
    before = stored(app, call)
    assert before["status"] == "completed"
    assert call_quick_step.status_changes_nothing(db_of(app).engine, call.sid)
    status, _body = phone.post_status(call, "completed")
    assert status == 204
    assert stored(app, call) == before


def test_the_end_of_a_call_in_progress_is_left_to_the_general_path(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(CALL_CENTER + "&language=en").press("1")
    assert not call_quick_step.status_changes_nothing(db_of(app).engine, call.sid)
    call.hang_up()
    survey = survey_of_call(app, call.sid)
    assert survey.status == "expired"
    assert survey.failure_reason == "caller hung up at question agent_helpful"
    assert call_quick_step.status_changes_nothing(db_of(app).engine, call.sid)


def test_a_step_on_a_connection_pinged_after_sitting_idle_is_served(
    app: Flask, phone: CallSimulator, served: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pooled connection idle for a while is pinged when checked out, which leaves it in
    # a transaction: the quick path must still run its statements on their own.
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)
    call = phone.dial(CALL_CENTER + "&language=en").press("1").press("5")
    call.record(RECORDING, 4)
    assert served == [True, True, True]
    assert "Goodbye" in call.heard[-1]
    assert phone.post_status(call, "completed")[0] == 204
    assert survey_of_call(app, call.sid).status == "completed"
