"""SMS conversations: the engine, the response store and the SMS channel wired together.

Functions here take an open database session and plain values; they decide nothing the
engine does not (the engine decides what to say), and they never talk to a provider: the
caller sends what they record (a job through the REST API, or the webhook in its TwiML).

Rules kept here, for every path into a survey:

- A number with an opt-out record is never texted; STOP marks its open surveys
  ``opted_out``.
- One open SMS survey per number: when a survey starts, an older one still waiting for the
  same number's replies is ``cancelled`` (its answers are kept), so a reply always reaches
  the newest interaction.
- Every outbound text is a :class:`Message` row with a unique ``step_key``, written before
  it is sent; a retried send skips rows already sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, object_session

from channels.base import OPT_OUT_ERRORS, PERMANENT_ERRORS, RETRYABLE_ERRORS
from channels.sms import split_text
from gateway.alerts import rules as alerts
from gateway.engine.engine import new_state, step
from gateway.engine.types import LINK_PLACEHOLDER, Event, Prompt, SessionState, StepResult
from gateway.flows.model import Flow
from gateway.store.models import Answer, Message, OptOut, Survey, utcnow
from gateway.store.sealing import contact_hash
from gateway.surveys import consent
from gateway.surveys.first_answers import first_answer_change
from gateway.surveys.flow_versions import flow_for_version, flow_for_version_id

#: Outbound rows the send job still has to hand to the provider.
PENDING = "pending"
#: An outbound row a send job has taken; it is never taken twice.
CLAIMED = "claimed"
#: Status of outbound texts recorded but not sent (no Twilio credentials).
SIMULATED = "simulated"
#: A prompt dropped because its survey ended before it went out.
DROPPED = "dropped"

#: Surveys that have texted the respondent and wait for replies.
AWAITING_REPLY = ("sent", "started")
NOT_YET_STARTED = ("scheduled", "queued")

#: Message statuses in the order they may follow one another; a callback never moves a
#: message back (a late "sent" after "delivered" is ignored).
STATUS_RANK: dict[str, int] = {
    PENDING: 0,
    CLAIMED: 0,
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    SIMULATED: 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}
FAILED_STATUSES = ("failed", "undelivered")

#: Makes a survey's signed web link, for the text that hands an SMS survey off to the web.
SurveyLink = Callable[[Survey], str]


# -- statements of the reply path ------------------------------------------------------
# Built once, with bind parameters, against the tables rather than the mapped classes: a
# webhook then neither rebuilds them nor runs them through the ORM's bulk machinery, which
# cost more CPU per reply than everything else it does.

_MESSAGES = cast(sa.Table, Message.__table__)
_ANSWERS = cast(sa.Table, Answer.__table__)
_OPT_OUTS = cast(sa.Table, OptOut.__table__)

_OPTED_OUT = (
    sa.select(_OPT_OUTS.c.id)
    .where(_OPT_OUTS.c.contact_hash == sa.bindparam("contact_hash"))
    .limit(1)
)
_AWAITING = (
    sa.select(Survey)
    .where(
        Survey.contact_hash == sa.bindparam("contact_hash"),
        Survey.channel == "sms",
        Survey.status.in_(AWAITING_REPLY),
    )
    .order_by(Survey.sent_at.desc(), Survey.created_at.desc())
    .limit(1)
)
_AWAITING_LOCKED = _AWAITING.with_for_update()
_OUTBOUND_COUNT = sa.select(sa.func.count(_MESSAGES.c.id)).where(
    _MESSAGES.c.survey_id == sa.bindparam("survey_id"), _MESSAGES.c.direction == "outbound"
)
#: One reply row; its step key numbers it after the survey's outbound rows already written.
_INSERT_REPLY = sa.insert(_MESSAGES).values(
    survey_id=sa.bindparam("survey_id"),
    agency_id=sa.bindparam("agency_id"),
    direction="outbound",
    channel=sa.bindparam("channel"),
    from_addr=sa.bindparam("from_addr"),
    to_addr=sa.bindparam("to_addr"),
    contact_hash=sa.bindparam("contact_hash"),
    body=sa.bindparam("body"),
    step_key=sa.bindparam("key_prefix", type_=sa.String())
    + sa.cast(
        sa.select(sa.func.count(_MESSAGES.c.id))
        .where(
            _MESSAGES.c.survey_id == sa.bindparam("counted_survey_id"),
            _MESSAGES.c.direction == "outbound",
        )
        .scalar_subquery(),
        sa.String(),
    ),
    status=sa.bindparam("status"),
)
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
_ANSWER_COLUMNS = ("survey_id", "question_id", "raw", "value", "outcome", "survey_created_at")


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


def _upsert_answer(dialect: Any) -> Any:
    """INSERT of an answer that updates the row when the question was answered before."""
    insert = dialect.insert(_ANSWERS).values(
        **{name: sa.bindparam(name) for name in _ANSWER_COLUMNS},
        created_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
    )
    return insert.on_conflict_do_update(
        index_elements=["survey_id", "question_id"],
        set_={
            "raw": insert.excluded.raw,
            "value": insert.excluded.value,
            "outcome": insert.excluded.outcome,
            "updated_at": insert.excluded.updated_at,
        },
    )


_INSERT_INBOUND = {"postgresql": _insert_inbound(postgresql), "sqlite": _insert_inbound(sqlite)}
_UPSERT_ANSWER = {"postgresql": _upsert_answer(postgresql), "sqlite": _upsert_answer(sqlite)}


def _dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def failure_reason(code: str) -> str:
    description = PERMANENT_ERRORS.get(code) or RETRYABLE_ERRORS.get(code) or "delivery failed"
    return f"error {code}: {description}"


# -- lookups ---------------------------------------------------------------------------


def is_opted_out(session: Session, contact: str) -> bool:
    return is_hash_opted_out(session, contact_hash(contact))


def is_hash_opted_out(session: Session, hashed: str | None) -> bool:
    """Whether the contact of this :func:`contact_hash` opted out."""
    return hashed is not None and session.scalar(_OPTED_OUT, {"contact_hash": hashed}) is not None


def latest_sms_survey(session: Session, contact: str) -> Survey | None:
    """The number's most recent SMS survey, whatever its status."""
    return session.scalars(
        sa.select(Survey)
        .where(Survey.contact_hash == contact_hash(contact), Survey.channel == "sms")
        .order_by(Survey.created_at.desc(), Survey.id.desc())
        .limit(1)
    ).first()


def awaiting_survey(session: Session, contact: str, *, lock: bool = False) -> Survey | None:
    """The newest SMS survey that texted ``contact`` and waits for a reply."""
    query = _AWAITING_LOCKED if lock else _AWAITING
    return session.scalars(query, {"contact_hash": contact_hash(contact)}).first()


def survey_flow(survey: Survey) -> Flow:
    session = object_session(survey)
    if session is None or "flow_version" in survey.__dict__:
        return flow_for_version(survey.flow_version)
    return flow_for_version_id(session, survey.flow_version_id)


# -- recording -------------------------------------------------------------------------


def record_inbound_once(
    session: Session, *, sid: str, from_: str, to: str, body: str, survey: Survey | None
) -> int | None:
    """Store an inbound text unless its ``sid`` is stored already; the new row's id, or
    None for a webhook Twilio delivered twice (also when another worker holds it now)."""
    params = {
        "survey_id": survey.id if survey else None,
        "agency_id": survey.agency_id if survey else None,
        "from_addr": from_,
        "to_addr": to,
        "contact_hash": contact_hash(from_),
        "body": body,
        "provider_sid": sid,
        "now": utcnow(),
    }
    new_id: int | None = session.execute(_INSERT_INBOUND[_dialect_name(session)], params).scalar()
    return new_id


def record_outbound(
    session: Session, survey: Survey, texts: Sequence[str], *, status: str, flush: bool = True
) -> list[Message]:
    """One outbound row per text (cut to Twilio's size), each with the next step key.

    ``flush=False`` leaves the rows to the caller's flush: a chunk of surveys started
    together (:mod:`gateway.sending.chunks`) writes all their rows in one go."""
    n = int(session.scalar(_OUTBOUND_COUNT, {"survey_id": survey.id}) or 0)
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
                    step_key=f"{survey.id}:{n}",
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
    for part in parts:
        connection.execute(
            _INSERT_REPLY,
            {
                "survey_id": survey.id,
                "counted_survey_id": survey.id,
                "agency_id": survey.agency_id,
                "channel": "sms",
                "from_addr": survey.sender,
                "to_addr": survey.contact,
                "contact_hash": survey.contact_hash,
                "body": part,
                "key_prefix": f"{survey.id}:",
                "status": status,
            },
        )
    note_unflushed_sends(session, "sms", status, len(parts))


def note_unflushed_sends(session: Session, channel: str, status: str, count: int) -> None:
    """Outbound rows written with a plain INSERT, which no ORM flush sees: the metrics
    count them when the session commits, as they count the rows a flush writes."""
    sends: list[tuple[str, str, int]] = session.info.setdefault(UNFLUSHED_SENDS, [])
    sends.append((channel, status, count))


def _save_answers(session: Session, survey: Survey, result: StepResult) -> None:
    """Write each recorded answer in one statement: a changed answer updates its row."""
    now = utcnow()
    upsert = _UPSERT_ANSWER[_dialect_name(session)]
    for recorded in result.answers:
        session.execute(
            upsert,
            {
                "survey_id": survey.id,
                "question_id": recorded.question_id,
                "raw": recorded.raw,
                "value": recorded.value,
                "outcome": recorded.outcome,
                "survey_created_at": survey.created_at,
                "now": now,
            },
        )
    dropped = getattr(result, "dropped", ())
    if dropped:
        session.execute(
            sa.delete(Answer).where(Answer.survey_id == survey.id, Answer.question_id.in_(dropped))
        )
    _note_first_answer(survey, result, dropped, now)
    if result.answers or dropped:
        # Rows were written around the session: what it holds of them is out of date.
        if "answers" in survey.__dict__:
            session.expire(survey, ["answers"])
        for held in list(session.identity_map.values()):
            if isinstance(held, Answer) and held.survey_id == survey.id:
                session.expire(held)


def _note_first_answer(
    survey: Survey, result: StepResult, dropped: Sequence[str], now: datetime
) -> None:
    change = first_answer_change(survey.first_answered_at is not None, result, dropped)
    if change is not None:
        survey.first_answered_at = now if change else None


def _apply(session: Session, survey: Survey, result: StepResult, now: datetime) -> None:
    """Store a step's state, answers and the survey status that follows from them."""
    survey.state = result.state.to_dict()
    with session.no_autoflush:
        _save_answers(session, survey, result)
    if result.answers and survey.status == "sent":
        survey.status = "started"
        survey.started_at = now
    if result.state.status == "completed":
        survey.status = "completed"
        survey.completed_at = now
        alerts.survey_completed(session, survey)
    elif result.state.status == "expired":
        survey.status = "expired"


def apply_step(session: Session, survey: Survey, result: StepResult, now: datetime) -> None:
    """Store a step's state, answers and resulting status (for channels other than SMS)."""
    _apply(session, survey, result, now)


def _prompt_text(
    result: StepResult, survey: Survey | None = None, link: SurveyLink | None = None
) -> str:
    return "\n\n".join(_filled(p, survey, link) for p in result.prompts if p.text)


def _filled(prompt: Prompt, survey: Survey | None, link: SurveyLink | None) -> str:
    """The prompt's text; a hand-off prompt gets the survey's web link in its placeholder."""
    if prompt.kind != "handoff":
        return prompt.text
    if survey is None or link is None:
        raise ValueError("a hand-off text needs the survey and a survey_link to make its link")
    return prompt.text.replace(LINK_PLACEHOLDER, link(survey))


# -- starting ---------------------------------------------------------------------------


def supersede(session: Session, survey: Survey, now: datetime) -> list[str]:
    """Cancel the number's other SMS surveys that wait for replies; their answers stay."""
    if survey.contact_hash is None:
        return []
    older = session.scalars(
        sa.select(Survey)
        .where(
            Survey.contact_hash == survey.contact_hash,
            Survey.channel == "sms",
            Survey.status.in_(AWAITING_REPLY),
            Survey.id != survey.id,
        )
        .with_for_update()
    ).all()
    for other in older:
        other.status = "cancelled"
        other.failure_reason = f"superseded by survey {survey.id}"
        other.updated_at = now
    return [other.id for other in older]


def begin(
    session: Session,
    survey: Survey,
    flow: Flow,
    *,
    now: datetime,
    max_reprompts: int,
    outbound_status: str = PENDING,
    survey_link: SurveyLink | None = None,
    flush: bool = True,
) -> list[Message]:
    """Run the survey's first step and record its opening text as outbound rows.

    The caller holds the survey row (locked) in ``scheduled`` or ``queued``. A number that
    opted out gets nothing: the survey becomes ``opted_out`` and no row is written.
    """
    if is_hash_opted_out(session, survey.contact_hash):
        survey.status = "opted_out"
        survey.failure_reason = "the number has opted out of text messages"
        return []
    state = new_state(flow, "sms", survey.language, {k: str(v) for k, v in survey.context.items()})
    if consent.needs_consent(flow, survey) and survey.consent_given_at is None:
        # Ask first; the engine starts when the respondent says yes (sms_inbound).
        supersede(session, survey, now)
        survey.state = state.to_dict()
        if survey.expires_at is None and flow.expires_after is not None:
            survey.expires_at = now + flow.expires_after
        wording = consent.ask(survey, flow, now)
        return record_outbound(session, survey, [wording], status=outbound_status, flush=flush)
    result = step(flow, state, Event("start"), max_reprompts=max_reprompts)
    supersede(session, survey, now)
    survey.state = result.state.to_dict()
    if survey.expires_at is None and flow.expires_after is not None:
        survey.expires_at = now + flow.expires_after
    text = _prompt_text(result, survey, survey_link)
    return record_outbound(session, survey, [text], status=outbound_status, flush=flush)


def mark_sent(survey: Survey, now: datetime) -> None:
    """The first text reached the provider: the survey now waits for replies."""
    if survey.status in NOT_YET_STARTED:
        survey.status = "sent"
        survey.sent_at = now


# -- replies ----------------------------------------------------------------------------


def answer(
    session: Session, survey: Survey, body: str, *, now: datetime, max_reprompts: int
) -> StepResult:
    """Feed a reply to the engine and store what it recorded."""
    flow = survey_flow(survey)
    state = SessionState.from_dict(survey.state)
    result = step(flow, state, Event("text", body), max_reprompts=max_reprompts)
    _apply(session, survey, result, now)
    return result


def apply_event(
    session: Session, survey: Survey, event: Event, *, now: datetime, max_reprompts: int
) -> StepResult:
    """Feed any engine event (a web form's values, "back", "start") to the engine and
    store what it recorded, on whatever channel the survey runs."""
    flow = survey_flow(survey)
    state = SessionState.from_dict(survey.state)
    result = step(flow, state, event, max_reprompts=max_reprompts)
    _apply(session, survey, result, now)
    return result


def reply_texts(
    result: StepResult, survey: Survey | None = None, survey_link: SurveyLink | None = None
) -> list[str]:
    """The texts answering a reply; ``survey`` and ``survey_link`` fill a hand-off's link."""
    text = _prompt_text(result, survey, survey_link)
    return split_text(text) if text else []


def expire(session: Session, survey: Survey, *, now: datetime, max_reprompts: int) -> None:
    """End an open survey whose time is up; nothing is texted."""
    if survey.state:
        flow = survey_flow(survey)
        state = SessionState.from_dict(survey.state)
        result = step(flow, state, Event("expire"), max_reprompts=max_reprompts)
        _apply(session, survey, result, now)
    survey.status = "expired"
    _drop_pending(session, survey)


def expire_due(session: Session, *, now: datetime, max_reprompts: int, limit: int = 500) -> int:
    """Expire the surveys whose ``expires_at`` has passed; returns how many."""
    due = session.scalars(
        sa.select(Survey)
        .where(
            Survey.status.in_(AWAITING_REPLY),
            Survey.expires_at.is_not(None),
            Survey.expires_at <= now,
        )
        .order_by(Survey.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for survey in due:
        expire(session, survey, now=now, max_reprompts=max_reprompts)
    return len(due)


def is_past_expiry(survey: Survey, now: datetime) -> bool:
    return survey.expires_at is not None and survey.expires_at <= now


# -- opting out and in ----------------------------------------------------------------


def _drop_pending(session: Session, survey: Survey) -> None:
    session.execute(
        sa.update(Message)
        .where(Message.survey_id == survey.id, Message.status == PENDING)
        .values(status=DROPPED)
    )


def opt_out(session: Session, contact: str, *, keyword: str, now: datetime) -> list[Survey]:
    """Record the opt-out and close the number's open SMS surveys as ``opted_out``."""
    hashed = contact_hash(contact)
    if not is_hash_opted_out(session, hashed):
        session.add(OptOut(contact_hash=hashed, channel="sms", keyword=keyword, created_at=now))
    open_surveys = session.scalars(
        sa.select(Survey)
        .where(
            Survey.contact_hash == hashed,
            Survey.channel == "sms",
            Survey.status.in_(AWAITING_REPLY + NOT_YET_STARTED),
        )
        .with_for_update()
    ).all()
    for survey in open_surveys:
        survey.status = "opted_out"
        survey.failure_reason = f"the respondent opted out ({keyword})"
        _drop_pending(session, survey)
    session.flush()
    return list(open_surveys)


def opt_in(session: Session, contact: str) -> bool:
    """Remove the number's opt-out; False when it had none."""
    result = session.execute(sa.delete(OptOut).where(OptOut.contact_hash == contact_hash(contact)))
    return bool(getattr(result, "rowcount", 0))


# -- delivery status ------------------------------------------------------------------


@dataclass(frozen=True)
class StatusOutcome:
    """What a status callback changed: a survey to send again, if the failure allows."""

    found: bool
    resend_survey_id: str | None = None
    #: A survey switched to its call fallback (gateway.reach.fallback): start it.
    start_survey_id: str | None = None


def apply_status(
    session: Session,
    *,
    sid: str,
    status: str,
    error_code: str | None,
    now: datetime,
    max_attempts: int,
) -> StatusOutcome:
    """Record a provider status for the outbound message ``sid`` (idempotent, forward only).

    A failed opening text whose error a retry may fix is put back to ``pending`` for
    another send (up to ``max_attempts``); otherwise the survey, still waiting for its
    first reply, becomes ``failed`` with the reason. Error 21610 (the recipient replied
    STOP to the carrier) records an opt-out for the number.
    """
    message = session.scalars(
        sa.select(Message).where(Message.provider_sid == sid).with_for_update()
    ).first()
    if message is None:
        return StatusOutcome(found=False)
    if STATUS_RANK.get(status, 0) <= STATUS_RANK.get(message.status, 0):
        return StatusOutcome(found=True)
    message.status = status
    if error_code:
        message.error_code = error_code
    message.updated_at = now
    if status not in FAILED_STATUSES or message.direction != "outbound":
        return StatusOutcome(found=True)
    code = error_code or "unknown"
    if code in OPT_OUT_ERRORS and message.to_addr:
        opt_out(session, message.to_addr, keyword=f"error {code}", now=now)
        return StatusOutcome(found=True)
    survey = session.get(Survey, message.survey_id) if message.survey_id else None
    if survey is None or survey.status != "sent":
        return StatusOutcome(found=True)
    retryable = code in RETRYABLE_ERRORS
    if retryable and message.attempts < max_attempts:
        message.status = PENDING
        return StatusOutcome(found=True, resend_survey_id=survey.id)
    from gateway.reach import fallback  # it builds on this module

    if code in fallback.UNDELIVERABLE_CODES and fallback.switch_to_call(session, survey, code, now):
        return StatusOutcome(found=True, start_survey_id=survey.id)
    survey.status = "failed"
    survey.failure_reason = failure_reason(code)
    return StatusOutcome(found=True)


# -- recent history ---------------------------------------------------------------------


def recently_closed_reply_key(survey: Survey | None, now: datetime, window: timedelta) -> str:
    """The catalog key answering a number whose last survey has ended (or that has none)."""
    if survey is not None and now - survey.updated_at <= window:
        if survey.status == "completed":
            return "service.already_finished"
        if survey.status == "expired":
            return "service.survey_expired"
    return "service.no_open_survey"
