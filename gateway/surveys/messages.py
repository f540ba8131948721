"""SMS message rows: their statuses, and the writing of a survey's texts in and out.

Every outbound text is a :class:`~gateway.store.models.Message` row with a unique
``step_key``, written before it is sent; a retried send skips rows already sent. Nothing
here talks to a provider: the caller sends what these record (a job through the REST API,
or the webhook in its TwiML).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from channels.sms import split_text
from gateway.engine.types import LINK_PLACEHOLDER, Prompt, StepResult
from gateway.store.models import Message, Survey, utcnow
from gateway.store.sealing import contact_hash
from gateway.surveys import comment_arrival
from gateway.surveys.flow_versions import flow_for_version_id
from gateway.surveys.step_plan import step_key, step_key_prefix
from gateway.surveys.step_statements import OUTBOUND_WRITTEN, reply_insert

#: Outbound rows the send job still has to hand to the provider.
PENDING = "pending"
#: An outbound row a send job has taken; it is never taken twice.
CLAIMED = "claimed"
#: Status of outbound texts recorded but not sent (no Twilio credentials).
SIMULATED = "simulated"
#: A prompt dropped because its survey ended before it went out.
DROPPED = "dropped"

#: Makes a survey's signed web link, for the text that hands an SMS survey off to the web.
SurveyLink = Callable[[Survey], str]


# -- statements of the reply path ------------------------------------------------------
# Built once, with bind parameters, against the tables rather than the mapped classes: a
# webhook then neither rebuilds them nor runs them through the ORM's bulk machinery, which
# cost more CPU per reply than everything else it does.

_MESSAGES = cast(sa.Table, Message.__table__)

#: One reply row (:func:`gateway.surveys.step_statements.reply_insert`), numbered by the
#: database after the survey's outbound rows already written.
_INSERT_REPLY = reply_insert()
#: ``session.info`` key: (channel, status, count) of outbound rows written with a plain
#: INSERT (:func:`note_unflushed_sends`); the metrics count them at commit.
UNFLUSHED_SENDS = "gateway_unflushed_sends"
_INBOUND_COLUMNS = (
    "survey_id",
    "agency_id",
    "from_addr",
    "to_addr",
    "contact_hash",
    "body",
    "provider_sid",
)


def _insert_inbound(dialect: Any) -> Any:
    """INSERT of an inbound text that skips a ``provider_sid`` stored already; its id."""
    insert = dialect.insert(_MESSAGES).values(
        **{name: sa.bindparam(name) for name in _INBOUND_COLUMNS},
        direction="inbound",
        channel="sms",
        status="received",
        attempts=0,
        created_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
    )
    return insert.on_conflict_do_nothing(index_elements=["provider_sid"]).returning(_MESSAGES.c.id)


_INSERT_INBOUND = {"postgresql": _insert_inbound(postgresql), "sqlite": _insert_inbound(sqlite)}


def dialect_name(session: Session) -> str:
    """The name of the database dialect the session runs on, which picks a statement."""
    return session.get_bind().dialect.name


# -- recording -------------------------------------------------------------------------


def record_inbound_once(
    session: Session, *, sid: str, from_: str, to: str, body: str, survey: Survey | None
) -> int | None:
    """Store an inbound text unless its ``sid`` is stored already; the new row's id, or
    None for a webhook Twilio delivered twice (also when another worker holds it now).
    The body is stored with its personal data masked (:mod:`gateway.surveys.comment_arrival`)."""
    flow = flow_for_version_id(session, survey.flow_version_id) if survey is not None else None
    params = {
        "survey_id": survey.id if survey else None,
        "agency_id": survey.agency_id if survey else None,
        "from_addr": from_,
        "to_addr": to,
        "contact_hash": contact_hash(from_),
        "body": comment_arrival.stored_body(body, flow),
        "provider_sid": sid,
        "now": utcnow(),
    }
    new_id: int | None = session.execute(_INSERT_INBOUND[dialect_name(session)], params).scalar()
    return new_id


def record_outbound(
    session: Session, survey: Survey, texts: Sequence[str], *, status: str, flush: bool = True
) -> list[Message]:
    """One outbound row per text (cut to Twilio's size), each with the next step key.

    ``flush=False`` leaves the rows to the caller's flush: a chunk of surveys started
    together (:mod:`gateway.sending.chunks`) writes all their rows in one go."""
    n = int(session.scalar(OUTBOUND_WRITTEN, {"survey_id": survey.id}) or 0)
    rows: list[Message] = []
    for text in texts:
        for part in split_text(text):
            rows.append(
                Message(
                    survey_id=survey.id,
                    agency_id=survey.agency_id,
                    direction="outbound",
                    channel="sms",
                    from_addr=survey.sender,
                    to_addr=survey.contact,
                    body=part,
                    step_key=step_key(survey.id, n),
                    status=status,
                )
            )
            n += 1
    session.add_all(rows)
    if flush:
        session.flush()
    return rows


def record_replies(session: Session, survey: Survey, texts: Sequence[str], *, status: str) -> None:
    """Write the outbound rows of ``texts`` exactly as :func:`record_outbound` does, for a
    caller that needs no :class:`Message` objects back (a webhook answering with them):
    one INSERT each, numbered by the database, and no ORM flush."""
    if session.autoflush and any(isinstance(o, Message) for o in (*session.new, *session.dirty)):
        session.flush()  # the step keys count this session's own messages too
    parts = [part for text in texts for part in split_text(text)]
    connection = session.connection()
    params = {
        "survey_id": survey.id,
        "agency_id": survey.agency_id,
        "from_addr": survey.sender,
        "to_addr": survey.contact,
        "contact_hash": survey.contact_hash,
        "key_prefix": step_key_prefix(survey.id),
        "status": status,
        "now": utcnow(),
    }
    for part in parts:
        connection.execute(_INSERT_REPLY, {**params, "reply0": part})
    note_unflushed_sends(session, "sms", status, len(parts))


def note_unflushed_sends(session: Session, channel: str, status: str, count: int) -> None:
    """Outbound rows written with a plain INSERT, which no ORM flush sees: the metrics
    count them when the session commits, as they count the rows a flush writes."""
    sends: list[tuple[str, str, int]] = session.info.setdefault(UNFLUSHED_SENDS, [])
    sends.append((channel, status, count))


def drop_pending(session: Session, survey: Survey) -> None:
    """Drop the survey's texts not sent yet: it ended before they went out."""
    session.execute(
        sa.update(Message)
        .where(Message.survey_id == survey.id, Message.status == PENDING)
        .values(status=DROPPED)
    )


# -- texts of a step ---------------------------------------------------------------------


def prompt_text(
    result: StepResult, survey: Survey | None = None, link: SurveyLink | None = None
) -> str:
    """The texts of a step's prompts as one message, hand-off links filled in."""
    return "\n\n".join(_filled(p, survey, link) for p in result.prompts if p.text)


def _filled(prompt: Prompt, survey: Survey | None, link: SurveyLink | None) -> str:
    """The prompt's text; a hand-off prompt gets the survey's web link in its placeholder."""
    if prompt.kind != "handoff":
        return prompt.text
    if survey is None or link is None:
        raise ValueError("a hand-off text needs the survey and a survey_link to make its link")
    return prompt.text.replace(LINK_PLACEHOLDER, link(survey))


def reply_texts(
    result: StepResult, survey: Survey | None = None, survey_link: SurveyLink | None = None
) -> list[str]:
    """The texts answering a reply; ``survey`` and ``survey_link`` fill a hand-off's link."""
    text = prompt_text(result, survey, survey_link)
    return split_text(text) if text else []
