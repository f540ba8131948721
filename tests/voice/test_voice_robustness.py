"""What a caller hears when things go wrong: bad keys, silence, retries, hang-ups, errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from gateway.store.db import db_of
from gateway.store.models import Answer, Survey
from gateway.voice import calls
from gateway.voice import quick_step as call_quick_step
from gateway.voice.calls import APOLOGY
from tests.voice.call_simulator import CallSimulator
from tests.voice.conftest import survey_of_call

CALL_CENTER = "/twilio/voice?flow=call-center-post-call&language=en&agent=Maria&queue=benefits"
RESOLVED = "Was your question answered today?"


def answers_of(app: Flask, call_sid: str) -> dict[str, object]:
    return {a.question_id: a.value for a in survey_of_call(app, call_sid).answers}


@pytest.mark.parametrize(
    "keys", ["7", "*", "#", "0"], ids=["out-of-range", "star", "pound", "zero"]
)
def test_a_key_that_does_not_answer_a_required_question_asks_it_again(
    app: Flask, phone: CallSimulator, keys: str
) -> None:
    call = phone.dial(CALL_CENTER).press(keys)
    assert call.heard[-1].startswith("Sorry, I didn")
    assert RESOLVED in call.heard[-1]
    assert answers_of(app, call.sid) == {}


def test_silence_asks_again_then_leaves_the_question_unanswered(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(CALL_CENTER).silence()
    assert call.heard[-1].startswith("Sorry, I didn't hear an answer.")
    call.silence().silence()
    assert "Let's go on to the next question." in call.heard
    survey = survey_of_call(app, call.sid)
    assert [(a.question_id, a.outcome) for a in survey.answers] == [("resolved", "unanswered")]


def test_a_gather_posted_twice_records_one_answer_and_gets_the_same_next_twiml(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(CALL_CENTER)
    gather = call.waiting.action
    call.press("1")
    first = call.documents[-1]
    status, again = call.repost(phone.url(gather), {"Digits": "2"})
    assert status == 200
    assert again == first
    assert answers_of(app, call.sid) == {"resolved": "yes"}
    with db_of(app).session() as session:
        assert session.scalar(sa.select(sa.func.count(Answer.id))) == 1


def test_an_empty_recording_leaves_an_optional_comment_without_an_answer(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(CALL_CENTER).press("1").press("4").record(None, 0)
    survey = survey_of_call(app, call.sid)
    assert survey.status == "completed"
    assert answers_of(app, call.sid)["comment"] is None


def test_star_skips_an_optional_recorded_comment(app: Flask, phone: CallSimulator) -> None:
    call = phone.dial(CALL_CENTER).press("1").press("4").record(None, 0, finish_key="*")
    survey = survey_of_call(app, call.sid)
    assert survey.status == "completed"
    assert {a.question_id: a.outcome for a in survey.answers}["comment"] == "skipped"


def test_a_caller_who_hangs_up_midway_keeps_every_answer_given(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(CALL_CENTER).press("2").press("3").hang_up()
    survey = survey_of_call(app, call.sid)
    assert answers_of(app, call.sid) == {"resolved": "no", "not_resolved_reason": "unclear"}
    assert survey.status == "expired"
    assert survey.failure_reason == "caller hung up at question agent_helpful"


def test_a_caller_who_hangs_up_while_recording_keeps_the_recording(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(CALL_CENTER).press("1").press("5")
    call.hang_up_while_recording("https://api.twilio.com/Recordings/RE9", 4)
    survey = survey_of_call(app, call.sid)
    assert survey.status == "completed"
    assert answers_of(app, call.sid)["comment"] == "https://api.twilio.com/Recordings/RE9"


def test_a_gather_for_an_unknown_call_gets_an_apology_and_a_hang_up(
    phone: CallSimulator,
) -> None:
    status, body = phone.post(
        phone.url("/twilio/voice/gather?survey=sv_nosuchsurvey&step=1"),
        {"CallSid": "CA" + "f" * 32, "Digits": "1"},
    )
    root = ET.fromstring(body)
    assert status == 200
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root[0].text == APOLOGY["en"]


def test_a_gather_after_the_survey_finished_gets_an_apology(phone: CallSimulator) -> None:
    call = phone.dial(CALL_CENTER).press("1").press("5")
    record_url = phone.url(call.waiting.action)
    call.record("https://api.twilio.com/Recordings/RE2", 3)
    finished_step = record_url.replace("step=3", "step=4")
    status, body = call.repost(finished_step, {"Digits": "1"})
    assert status == 200
    assert APOLOGY["en"] in body and "<Hangup />" in body


def test_an_inbound_call_missing_a_context_value_hears_an_apology_and_starts_nothing(
    app: Flask, phone: CallSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    call = phone.dial("/twilio/voice?flow=call-center-post-call&agent=Maria")
    assert call.heard == [APOLOGY["en"]]
    assert call.ended
    assert "lacks context value(s) queue" in caplog.text
    with db_of(app).session() as session:
        assert session.scalar(sa.select(sa.func.count(Survey.id))) == 0


@pytest.mark.quick_lane_fails
def test_an_internal_error_in_a_voice_route_is_an_apology_not_an_application_error(
    app: Flask, phone: CallSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = phone.dial(CALL_CENTER)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the store is down")

    monkeypatch.setattr(calls, "step", broken)
    monkeypatch.setattr(call_quick_step, "step", broken)
    call.press("1")
    assert call.last_status == 200
    assert call.heard[-1] == APOLOGY["en"]
    assert call.ended
    assert answers_of(app, call.sid) == {}


def test_a_webhook_with_a_bad_signature_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    response = client.post(
        CALL_CENTER,
        data={"CallSid": "CA" + "1" * 32, "From": "+12025550123"},
        headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
    )
    assert response.status_code == 403
    with db_of(app).session() as session:
        assert session.scalar(sa.select(sa.func.count(Survey.id))) == 0


def test_the_same_inbound_call_delivered_twice_starts_one_survey(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(CALL_CENTER)
    status, again = call.repost(phone.url(CALL_CENTER), {"CallStatus": "ringing"})
    assert status == 200
    assert again == call.documents[0]
    with db_of(app).session() as session:
        assert session.scalar(sa.select(sa.func.count(Survey.id))) == 1
