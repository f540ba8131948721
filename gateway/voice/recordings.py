"""Recorded answers of phone surveys: a finished ``<Record>`` and Twilio's transcription.

A ``text`` question is answered by speaking: the recording's URL is the answer, and an
empty recording (no URL, or no length) is no answer. When the flow asks for it, Twilio's
transcription arrives later and is kept beside the survey's other messages.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.engine.types import Event
from gateway.store.models import Message, Survey
from gateway.voice.twiml import CHANNEL


def recording_event(url: str | None, duration: str | None, digits: str | None) -> Event:
    """The engine event for a finished ``<Record>``: an empty recording is no recording.

    ``*`` ending the recording of an optional question is its skip key.
    """
    if digits == "*" and not _has_audio(url, duration):
        return Event("digits", "*")
    return Event("recording", url if _has_audio(url, duration) else None)


def _has_audio(url: str | None, duration: str | None) -> bool:
    try:
        seconds = int(duration or "0")
    except ValueError:
        seconds = 0
    return bool(url) and seconds > 0


def record_transcription(
    session: Session, survey_id: str, *, call_sid: str, sid: str, text: str, status: str
) -> bool:
    """Keep Twilio's transcription of a recorded answer as an inbound message of the survey.

    Idempotent by the transcription's sid; False when the survey is not this call's.
    """
    survey = session.get(Survey, survey_id)
    if survey is None or survey.provider_ref != call_sid:
        return False
    if sid and session.scalar(sa.select(Message.id).where(Message.provider_sid == sid)):
        return True
    session.add(
        Message(
            survey_id=survey.id,
            agency_id=survey.agency_id,
            direction="inbound",
            channel=CHANNEL,
            from_addr=survey.contact,
            to_addr=survey.sender,
            body=text if status == "completed" else "",
            provider_sid=sid or None,
            status="transcribed" if status == "completed" else "transcription_failed",
        )
    )
    return True
