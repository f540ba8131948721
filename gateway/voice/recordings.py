"""Recorded answers of phone surveys: a finished ``<Record>`` and Twilio's transcription.

A ``text`` question is answered by speaking: the recording's URL is the answer, and an
empty recording (no URL, or no length) is no answer. When the flow asks for it, Twilio's
transcription arrives later and is kept beside the survey's other messages, its personal
data masked, and is read like a typed comment (themes, sentiment, crisis language:
:mod:`gateway.surveys.comment_arrival`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.engine.types import Event
from gateway.flows.model import Flow
from gateway.store.models import Answer, Message, Survey, utcnow
from gateway.surveys import comment_arrival
from gateway.surveys.flow_versions import flow_for_version_id
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
    flow = flow_for_version_id(session, survey.flow_version_id)
    heard = text if status == "completed" else ""
    if heard:
        _read(session, survey, flow, heard)
    session.add(
        Message(
            survey_id=survey.id,
            agency_id=survey.agency_id,
            direction="inbound",
            channel=CHANNEL,
            from_addr=survey.contact,
            to_addr=survey.sender,
            body=comment_arrival.stored_body(heard, flow),
            provider_sid=sid or None,
            # A message's status holds 16 characters.
            status="transcribed" if status == "completed" else "not_transcribed",
        )
    )
    return True


def _read(session: Session, survey: Survey, flow: Flow, heard: str) -> None:
    """Read the transcription as the comment of the text question last answered by a
    recording (Twilio names the call, not the question)."""
    text_questions = [q.id for q in flow.questions if q.type == "text"]
    question_id = session.scalar(
        sa.select(Answer.question_id)
        .where(
            Answer.survey_id == survey.id,
            Answer.question_id.in_(text_questions),
            Answer.outcome == "answered",
        )
        .order_by(Answer.updated_at.desc(), Answer.id.desc())
        .limit(1)
    )
    if question_id is None:
        return
    reading = comment_arrival.read_transcription(heard, flow, survey.language)
    arrival = comment_arrival.Arrival(question_id, heard, reading)
    comment_arrival.record(session, survey, flow, [arrival], utcnow())
