"""Flow Results (FLOIP) packages: a flow's responses for tools that read the open standard.

The packages follow the published release of the specification, 1.0.0-rc1 (FLOIP
flow-results, ``specification.md`` of 30 September 2017). A package is a Data Package
descriptor (``datapackage.json``) with one resource whose ``schema`` lists the fields of
the response rows and the flow's ``questions``, and whose ``path`` is the URL of the rows:
a JSON array of rows of exactly the release's six columns,
``[timestamp, row_id, contact_id, question_id, response, response_metadata]``. (A
``session_id`` column, added to the specification's draft text after the release, is not
part of 1.0.0-rc1: the survey id travels in ``response_metadata`` instead.)

- ``row_id`` is the answer's id (unique in the gateway); ``response_metadata`` holds the
  survey id as ``session_id``, and the channel, language and flow version. A free-text
  answer's ``response`` is its stored, masked text, and its metadata adds what was read of
  it: ``themes`` (staff's correction when there is one), ``sentiment`` and ``crisis``.
- ``contact_id`` is a keyed hash (under ``SECRET_KEY``) of the contact's lookup hash: the
  same contact gets the same id in every package, also after its address is erased, and
  no contact detail leaves in it.
- Questions of every version of the flow are listed, newest wording first, so that
  answers given on an older version still find their question (the specification's
  "Option 2" versioning); ``modified`` is when the newest version was first loaded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.flows.model import Flow, Question
from gateway.store.comment_models import CommentReading
from gateway.store.db import Database
from gateway.store.models import Answer, FlowVersion, Survey
from gateway.store.slow_reads import reading

SPECIFICATION_VERSION = "1.0.0-rc1"
STREAM_BATCH = 2000
FIELDS = [
    {"name": "timestamp", "title": "Timestamp", "type": "datetime"},
    {"name": "row_id", "title": "Row ID", "type": "string"},
    {"name": "contact_id", "title": "Contact ID", "type": "string"},
    {"name": "question_id", "title": "Question ID", "type": "string"},
    {"name": "response", "title": "Response", "type": "any"},
    {"name": "response_metadata", "title": "Response Metadata", "type": "object"},
]
#: ISO 639-1 codes of the gateway's catalogs to the ISO 639-3 codes the standard uses.
ISO_639_3 = {"en": "eng", "es": "spa", "fr": "fra", "pt": "por", "zh": "zho", "vi": "vie"}


def rfc3339(moment: datetime) -> str:
    """RFC 3339 with an explicit ``+00:00`` offset (the standard does not take ``Z``)."""
    return moment.isoformat()


def package_id(agency_slug: str, flow_id: str) -> str:
    """A version 4 UUID that stays the same for the same agency and flow."""
    digest = hashlib.sha256(f"gateway-floip:{agency_slug}:{flow_id}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def contact_id(secret_key: str, contact: str) -> str:
    mac = hmac.new(secret_key.encode(), contact.encode(), hashlib.sha256).hexdigest()
    return "ct_" + mac[:24]


def _label(question: Question, language: str) -> str:
    return question.prompt.get(language) or next(iter(question.prompt.values()))


def question_schema(question: Question, language: str) -> dict[str, Any]:
    """One entry of the schema's ``questions``: type, label and type options."""
    options: dict[str, Any] = {}
    if question.type == "choice":
        kind = "select_many" if question.multiple else "select_one"
        options["choices"] = [o.value for o in question.options]
    elif question.type == "yesno":
        kind = "select_one"
        options["choices"] = ["yes", "no"]
    elif question.type == "rating":
        kind = "numeric"
        options["range"] = list(question.scale)
    elif question.type == "number":
        kind = "numeric"
        if question.min is not None and question.max is not None:
            options["range"] = [question.min, question.max]
    else:
        kind = "text"
    return {"type": kind, "label": _label(question, language), "type_options": options}


def descriptor(
    flows: Sequence[Flow],
    agency_slug: str,
    created: datetime,
    modified: datetime,
    data_url: str,
) -> dict[str, Any]:
    """The ``datapackage.json`` of a flow; ``flows`` are its versions, newest first."""
    newest = flows[0]
    language = newest.default_language
    questions: dict[str, Any] = {}
    for flow in flows:
        for question in flow.questions:
            if question.answerable and question.id not in questions:
                questions[question.id] = question_schema(question, language)
    title = newest.title.get(language) or next(iter(newest.title.values()))
    return {
        "profile": "flow-results-package",
        "flow_results_specification_version": SPECIFICATION_VERSION,
        "id": package_id(agency_slug, newest.id),
        "name": f"{agency_slug}-{newest.id}".lower(),
        "title": title,
        "created": rfc3339(created),
        "modified": rfc3339(modified),
        "resources": [
            {
                "name": f"{newest.id}-responses",
                "path": data_url,
                "access_method": "file",
                "mediatype": "application/json",
                "encoding": "utf-8",
                "schema": {
                    "language": ISO_639_3.get(language, language),
                    "fields": FIELDS,
                    "questions": questions,
                },
            }
        ],
    }


def version_times(session: Session, agency_slug: str, flow_id: str) -> tuple[datetime, datetime]:
    """When the flow's first and newest versions were first loaded."""
    first, last = session.execute(
        sa.select(sa.func.min(FlowVersion.loaded_at), sa.func.max(FlowVersion.loaded_at)).where(
            FlowVersion.flow_id == flow_id, FlowVersion.agency_slug == agency_slug
        )
    ).one()
    return first, last


def rows(database: Database, surveys: sa.Select[Any], secret_key: str) -> Iterator[str]:
    """The response rows of the selected surveys as one JSON array, streamed in chunks."""
    selected = surveys.with_only_columns(Survey.id).order_by(None).subquery()
    query = (
        sa.select(
            Answer.updated_at,
            Answer.id,
            Survey.contact_hash,
            Survey.id,
            Answer.question_id,
            Answer.value,
            Survey.channel,
            Survey.language,
            FlowVersion.version,
            CommentReading.themes,
            CommentReading.corrected_themes,
            CommentReading.sentiment,
            CommentReading.crisis,
        )
        .join(Survey, Survey.id == Answer.survey_id)
        .join(FlowVersion, FlowVersion.id == Survey.flow_version_id)
        .outerjoin(
            CommentReading,
            sa.and_(
                CommentReading.survey_id == Answer.survey_id,
                CommentReading.question_id == Answer.question_id,
            ),
        )
        .where(Answer.survey_id.in_(sa.select(selected.c.id)), Answer.outcome == "answered")
        .order_by(Answer.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    first = True
    chunk: list[str] = []
    with reading(database) as session:
        result = session.execute(query)  # before the first byte: a failure here is answered
        yield "["
        for (
            when,
            row_id,
            contact,
            survey_id,
            question_id,
            value,
            channel,
            language,
            version,
            themes,
            corrected,
            sentiment,
            crisis,
        ) in result:
            metadata: dict[str, Any] = {
                "session_id": survey_id,
                "channel": channel,
                "language": language,
                "flow_version": version,
            }
            if sentiment is not None:  # a free-text answer that was read
                metadata["themes"] = corrected if corrected is not None else themes
                metadata["sentiment"] = sentiment
                metadata["crisis"] = crisis
            row = [
                rfc3339(when),
                row_id,
                contact_id(secret_key, contact or ""),
                question_id,
                value,
                metadata,
            ]
            chunk.append(("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False))
            first = False
            if len(chunk) >= STREAM_BATCH:
                yield "".join(chunk)
                chunk = []
    yield "".join(chunk) + "\n]\n"
