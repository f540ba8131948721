"""Hostile fields and queries on the signed voice webhooks: what no store can keep is
refused with an apology (a voice URL) or cleaned (a caller's keys), never a 500, and a
refused call writes nothing; on SQLite and PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa
from flask import Flask

from gateway.store.db import db_of
from gateway.store.models import Survey
from gateway.voice.calls import APOLOGY
from tests.voice.call_simulator import CallSimulator
from tests.voice.conftest import survey_of_call

TRANSFER = "/twilio/voice?flow=call-center-post-call&language=en&queue=benefits&agent="


def _surveys(app: Flask) -> int:
    with db_of(app).session() as session:
        return int(session.scalar(sa.select(sa.func.count(Survey.id))) or 0)


@pytest.mark.parametrize("agent", ["%00", "Mar%00ia", "%1B", "x" * 501])
def test_a_transfer_with_an_agent_no_store_keeps_hears_an_apology_and_starts_nothing(
    app: Flask, phone: CallSimulator, agent: str, caplog: pytest.LogCaptureFixture
) -> None:
    call = phone.dial(TRANSFER + agent)
    assert call.heard == [APOLOGY["en"]]
    assert call.ended
    assert "query is refused" in caplog.text
    assert _surveys(app) == 0


def test_an_agent_of_five_hundred_characters_is_taken(app: Flask, phone: CallSimulator) -> None:
    call = phone.dial(TRANSFER + "x" * 500)
    assert not call.ended
    assert survey_of_call(app, call.sid).context["agent"] == "x" * 500


def test_keys_with_control_characters_are_cleaned_and_kept(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(TRANSFER + "Maria")
    status, _body = call.repost(phone.url(call.waiting.action), {"Digits": "1\x00"})
    assert status == 200
    assert {a.question_id: a.value for a in survey_of_call(app, call.sid).answers} == {
        "resolved": "yes"
    }


@pytest.mark.parametrize(
    "query",
    ["survey=sv%00x&step=1", "survey=sv_x&step=99999999999999999999", "survey=sv_x&step=%00"],
)
def test_a_gather_with_a_hostile_query_gets_an_apology(phone: CallSimulator, query: str) -> None:
    status, body = phone.post(
        phone.url(f"/twilio/voice/gather?{query}"), {"CallSid": "CA" + "f" * 32, "Digits": "1"}
    )
    assert status == 200
    assert ET.fromstring(body)[0].text == APOLOGY["en"]


def test_a_status_callback_with_a_nul_call_sid_changes_nothing(phone: CallSimulator) -> None:
    status, _body = phone.post(
        phone.url("/twilio/voice/status"), {"CallSid": "CA\x00", "CallStatus": "completed"}
    )
    assert status < 500


@pytest.mark.parametrize("call_sid", ["CA" + "f" * 63, "", "\x00"])
def test_a_call_with_no_call_sid_it_could_be_hears_an_apology_and_starts_nothing(
    app: Flask, phone: CallSimulator, call_sid: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, body = phone.post(
        phone.url(TRANSFER + "Maria"),
        {"CallSid": call_sid, "From": "+12025550123", "To": "+12025550100"},
    )
    assert status == 200
    assert ET.fromstring(body)[0].text == APOLOGY["en"]
    assert "no CallSid" in caplog.text
    assert _surveys(app) == 0


def test_a_transcription_with_a_hostile_query_is_ignored(
    phone: CallSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    status, _body = phone.post(
        phone.url("/twilio/voice/transcription?survey=sv%00x"),
        {
            "CallSid": "CA" + "f" * 32,
            "TranscriptionSid": "TR" + "1" * 64,
            "TranscriptionText": "ok",
        },
    )
    assert status == 204
    assert "transcription refused" in caplog.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.parametrize(
    ("outcome", "text", "status"),
    [("completed", "It was fine", "transcribed"), ("failed", "", "not_transcribed")],
)
def test_a_transcription_is_kept_as_an_inbound_message_of_the_call(
    app: Flask, phone: CallSimulator, outcome: str, text: str, status: str
) -> None:
    call = phone.dial(TRANSFER + "Maria")
    survey_id = survey_of_call(app, call.sid).id
    answer, _body = phone.post(
        phone.url(f"/twilio/voice/transcription?survey={survey_id}"),
        {
            "CallSid": call.sid,
            "TranscriptionSid": "TR" + "3" * 32,
            "TranscriptionText": text,
            "TranscriptionStatus": outcome,
        },
    )
    assert answer == 204
    kept = [m for m in survey_of_call(app, call.sid).messages if m.provider_sid == "TR" + "3" * 32]
    assert [(m.direction, m.body, m.status) for m in kept] == [("inbound", text, status)]
