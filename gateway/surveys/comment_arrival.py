"""Free-text answers as they arrive: masked before anything stores them, then read.

Every channel's text reaches the store through here:

- an inbound text's body, whatever it answers (:func:`stored_body`): personal data is
  masked before the ``messages`` row is written, on both webhook paths;
- a step's free-text answers (:func:`redact_step`), before the step plan writes them: the
  stored ``raw`` and ``value`` are the redacted text;
- a recorded answer's transcription (:func:`stored_body` and :func:`record`).

Each comment is then read (:mod:`gateway.comments`: themes, sentiment, crisis language)
and the reading stored as a :class:`~gateway.store.comment_models.CommentReading`, with the
unredacted text sealed beside it only when the flow keeps originals. A reading that is
crisis language is told to the crisis listeners (:func:`on_crisis`; the alerts register
theirs when the app is built), in the same transaction.

The reader is the app's (:func:`configure`, from ``COMMENT_READER`` and
``COMMENT_TAXONOMY``); each flow's redactor (the built-in detectors and the flow's
identifiers) is built once per flow version and kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.comments.reader import (
    CommentReader,
    Reading,
    RulesReader,
    build_reader,
    read_comment,
)
from gateway.comments.redaction import Redactor
from gateway.comments.taxonomy import Taxonomy, load_taxonomy_file
from gateway.engine.types import RecordedAnswer, StepResult
from gateway.flows.model import Flow
from gateway.store.comment_models import CommentReading
from gateway.store.models import Survey

log = logging.getLogger(__name__)

#: The taxonomy shipped with the gateway, used until the app configures its own.
DEFAULT_TAXONOMY = Path(__file__).resolve().parents[2] / "taxonomy" / "default.yaml"

#: Called with the session, the survey, its flow and the reading, in the step's transaction.
CrisisListener = Callable[[Session, Survey, Flow, CommentReading], object]

_state: dict[str, CommentReader] = {}
_redactors: dict[tuple[str, int, str], Redactor] = {}
_plain = Redactor()
_crisis_listeners: list[CrisisListener] = []


class TaxonomyError(ValueError):
    """The configured taxonomy file does not load; the message lists every problem."""


def load_taxonomy(path: Path) -> Taxonomy:
    loaded = load_taxonomy_file(path)
    if loaded.taxonomy is None:
        raise TaxonomyError("\n".join(str(error) for error in loaded.errors))
    return loaded.taxonomy


def configure(reader: CommentReader) -> None:
    """Read every comment from now on with ``reader`` (the app's, built at start)."""
    _state["reader"] = reader


def configure_from(taxonomy: Path | None, reader_spec: str) -> CommentReader:
    """Build and configure the reader ``COMMENT_READER`` names over the taxonomy file
    ``COMMENT_TAXONOMY`` (the shipped one when None); :class:`TaxonomyError` or
    :class:`~gateway.comments.reader.ReaderConfigError` when either is wrong."""
    reader = build_reader(reader_spec, load_taxonomy(taxonomy or DEFAULT_TAXONOMY))
    configure(reader)
    return reader


def current_reader() -> CommentReader:
    reader = _state.get("reader")
    if reader is None:
        reader = _state["reader"] = RulesReader(load_taxonomy(DEFAULT_TAXONOMY))
    return reader


def on_crisis(listener: CrisisListener) -> None:
    """Have ``listener`` told of every comment read as crisis language from now on;
    registering it again changes nothing."""
    if listener not in _crisis_listeners:
        _crisis_listeners.append(listener)


def redactor_for(flow: Flow | None) -> Redactor:
    """The built-in detectors and, for a flow with ``comments.identifiers``, its own."""
    if flow is None or flow.comments is None or not flow.comments.identifiers:
        return _plain
    key = (flow.id, flow.version, flow.content_hash)
    redactor = _redactors.get(key)
    if redactor is None:
        redactor = _redactors[key] = Redactor(flow.comments.identifiers)
    return redactor


def stored_body(body: str, flow: Flow | None) -> str:
    """``body`` as an inbound row may store it: its personal data masked."""
    return redactor_for(flow).redact(body).text if body else body


@dataclass(frozen=True, slots=True)
class Arrival:
    """A free-text answer of the step: what was typed, and what was read of it."""

    question_id: str
    original: str
    reading: Reading


def redact_step(
    result: StepResult, flow: Flow, language: str, channel: str
) -> tuple[StepResult, list[Arrival]]:
    """``result`` with its free-text answers redacted, and the arrivals to record.

    A phone survey's text answer is a recording's URL: its words arrive later, as a
    transcription, and are read then."""
    if channel == "voice" or not result.answers:
        return result, []
    arrivals: list[Arrival] = []
    answers: list[RecordedAnswer] = []
    for answer in result.answers:
        if answer.outcome != "answered" or not isinstance(answer.value, str) or not answer.value:
            answers.append(answer)
            continue
        if flow.question(answer.question_id).type != "text":
            answers.append(answer)
            continue
        reading = read_comment(answer.value, language, redactor_for(flow), current_reader())
        arrivals.append(Arrival(answer.question_id, answer.value, reading))
        masked = reading.redaction.text
        answers.append(replace(answer, raw=masked, value=masked))
    if not arrivals:
        return result, []
    # The engine's state keeps answers too (for later questions' conditions).
    kept = dict(result.state.answers)
    for answer in answers:
        if answer.question_id in kept and any(
            a.question_id == answer.question_id for a in arrivals
        ):
            kept[answer.question_id] = answer.value
    state = replace(result.state, answers=kept)
    return replace(result, answers=tuple(answers), state=state), arrivals


def read_transcription(text: str, flow: Flow, language: str) -> Reading:
    """A recorded answer's transcription, read like a typed comment."""
    return read_comment(text, language, redactor_for(flow), current_reader())


def record(
    session: Session,
    survey: Survey,
    flow: Flow,
    arrivals: Sequence[Arrival],
    now: datetime,
) -> list[CommentReading]:
    """Store each arrival's reading (replacing the question's earlier one: a changed
    answer), and tell the crisis listeners of each crisis reading."""
    if not arrivals:
        return []
    keep = flow.comments is not None and flow.comments.keep_original
    session.execute(
        sa.delete(CommentReading).where(
            CommentReading.survey_id == survey.id,
            CommentReading.question_id.in_([a.question_id for a in arrivals]),
        )
    )
    office = (survey.context or {}).get("office")
    rows = []
    for arrival in arrivals:
        reading = arrival.reading
        changed = reading.redaction.text != arrival.original
        row = CommentReading(
            survey_id=survey.id,
            question_id=arrival.question_id,
            agency_id=survey.agency_id,
            flow_id=survey.flow_id,
            channel=survey.channel,
            language=survey.language,
            office=str(office)[:200] if office is not None else None,
            themes=list(reading.theme_ids),
            theme_terms={m.theme: list(m.matched) for m in reading.themes},
            sentiment=reading.sentiment.label,
            sentiment_score=round(reading.sentiment.score, 3),
            crisis=reading.crisis.route,
            crisis_reasons=[r.to_dict() for r in reading.crisis.reasons],
            masked=list(reading.redaction.kinds),
            original=arrival.original if keep and changed else None,
            reader=reading.reader,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    for row in rows:
        if row.crisis:
            mark_routed(session, survey.id)
            # Which phrases matched, never the comment itself: logs carry no citizen data.
            log.warning(
                "survey %s: comment %s read as crisis language (%s)",
                survey.id,
                row.question_id,
                ", ".join(dict.fromkeys(r["category"] for r in row.crisis_reasons)),
            )
            for listener in tuple(_crisis_listeners):
                listener(session, survey, flow, row)
    return rows


def routed_in(session: Session, survey_id: str) -> bool:
    """Whether a crisis reading of the survey was routed in this session's transaction
    (so the reply to the text that carried it may add the flow's crisis message)."""
    return survey_id in session.info.get("crisis_routed", set())


def mark_routed(session: Session, survey_id: str) -> None:
    session.info.setdefault("crisis_routed", set()).add(survey_id)
