"""A recorded comment's transcription: stored with personal data masked, and read like a
typed comment (themes, sentiment, crisis language)."""

from __future__ import annotations

from flask import Flask

from gateway.store.comment_models import CommentReading
from gateway.store.db import db_of
from tests.voice.call_simulator import CallSimulator
from tests.voice.conftest import survey_of_call

CALL_CENTER = "/twilio/voice?flow=call-center-post-call&agent=Maria&queue=benefits&language=en"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE7"


def test_a_transcription_is_stored_masked_and_read(app: Flask, phone: CallSimulator) -> None:
    call = phone.dial(CALL_CENTER).press("1").press("5")
    call.record(RECORDING, 4)
    survey_id = survey_of_call(app, call.sid).id
    answer, _body = phone.post(
        phone.url(f"/twilio/voice/transcription?survey={survey_id}"),
        {
            "CallSid": call.sid,
            "TranscriptionSid": "TR" + "4" * 32,
            "TranscriptionText": "I waited on hold two hours, terrible. My social is 123 45 6789",
            "TranscriptionStatus": "completed",
        },
    )
    assert answer == 204
    survey = survey_of_call(app, call.sid)
    (kept,) = [m for m in survey.messages if m.provider_sid == "TR" + "4" * 32]
    assert kept.body == "I waited on hold two hours, terrible. My social is [SSN]"
    with db_of(app).session() as session:
        (reading,) = session.query(CommentReading).filter_by(survey_id=survey_id).all()
        assert reading.masked == ["ssn"] and "phone_hold" in reading.themes
        assert reading.sentiment == "negative" and not reading.crisis
