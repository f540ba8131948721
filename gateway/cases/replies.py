"""Replying to the respondent about their case, and taking their answer into the case.

Staff pick one of the flow's reply templates (``cases.replies``); the text goes out in the
respondent's language over the survey's own channel (SMS or email), and only when the
survey recorded their consent to be contacted. The reply is a ``messages`` row of the
survey (so it shows in the survey's messages) and an entry in the case's history.

It is sent by a job, as every text is: a number that sent STOP is never texted (checked
again right before the send), quiet hours put it off to the respondent's window, and the
sender's pacing bucket is taken. A reply that waits carries the case's ``reply_due_at``,
which the sweeper reads, so it goes out even when its job is lost or there is no Redis.

A text from the number within :data:`ANSWER_WINDOW` of a reply, when no survey waits for
one, is the respondent's answer: it lands in the case's history (and the survey's
messages), not in the finished survey's answers. An email respondent answers on the page
the reply email links to (:mod:`gateway.web.reply_pages`, a signed link that expires with
the same window), and their answer lands the same way.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from channels.base import DeliveryError
from channels.email import OutgoingEmail
from config.settings import Settings
from gateway.agencies.profiles import EmailIdentity, email_identity
from gateway.cases import history, notices
from gateway.cases.work import CaseError, flow_of, staff_email
from gateway.flows.render import format_date, render_text
from gateway.reach.windows import next_contact_time
from gateway.sending import outlets, pacing, texts
from gateway.services import queue
from gateway.services.providers import providers_of
from gateway.store.case_models import Case, CaseEvent
from gateway.store.db import db_of
from gateway.store.models import Agency, Message, Survey, utcnow
from gateway.store.sealing import contact_hash
from gateway.surveys import comment_arrival, events, messages, open_surveys, opt_outs
from gateway.surveys.links import base_url, links_of, reply_url
from gateway.web.pages import strings
from gateway.web.reply_pages import ReplyDesk, ReplyThread

log = logging.getLogger(__name__)

#: Channels a reply can go out on (the survey's own).
REPLY_CHANNELS: Final = ("sms", "email")
#: A waiting reply's status: neither a provider's status (Twilio answers ``queued``) nor
#: the survey's own texts' ``pending``, which the send path claims.
QUEUED: Final = "waiting"
#: Replies one job sends, at most (staff send one at a time; this bounds a mistake).
MAX_PER_JOB: Final = 10
#: A reply not sent, for good: the respondent opted out meanwhile, or it failed.
NOT_SENT: Final = messages.DROPPED
#: How long after a reply the respondent's text is taken as its answer.
ANSWER_WINDOW: Final = timedelta(days=14)
#: When a failed or paced reply is tried again.
RETRY_AFTER: Final = timedelta(seconds=60)
#: Replies the sweeper hands to the job per sweep, at most.
SWEEP_BATCH: Final = 100
EMAIL_SUBJECT: Final = {"en": "About your feedback", "es": "Sobre sus comentarios"}
#: The channel of an answer written on the reply page, in the survey's messages.
WRITTEN_CHANNEL: Final = "web"


def _step_key(case_id: str, n: int) -> str:
    return f"{case_id}:reply-{n}"


def prepare(session: Session, case: Case, template: str, actor: str, now: datetime) -> Message:
    """Record the reply ``template`` to ``case``'s respondent, to be sent by the job after
    commit (:func:`queue_after_commit`); a CaseError when it may not be sent."""
    if case.status == "resolved":
        raise CaseError("template", "the case is resolved: reopen it to reply")
    if not case.contact_consent:
        raise CaseError("template", "the respondent did not consent to be contacted")
    survey = session.get(Survey, case.survey_id)
    assert survey is not None
    if survey.channel not in REPLY_CHANNELS:
        raise CaseError(
            "template", f"replies go by SMS or email; this survey ran on {survey.channel}"
        )
    if not survey.contact:
        raise CaseError("template", "the respondent's contact has been erased")
    if survey.channel == "sms" and opt_outs.is_hash_opted_out(
        session, survey.contact_hash, survey.agency_id
    ):
        raise CaseError("template", "the respondent opted out of texts (STOP)")
    flow = flow_of(session, case)
    chosen = flow.cases.reply(template) if flow.cases else None
    if chosen is None:
        names = [r.name for r in (flow.cases.replies if flow.cases else ())]
        raise CaseError(
            "template",
            f"the flow has no reply template {template[:64]!r}"
            + (f"; templates are {', '.join(names)}" if names else ""),
        )
    context = {k: str(v) for k, v in (survey.context or {}).items()}
    body = render_text(chosen.text, case.language, context)
    sent_before = session.scalar(
        sa.select(sa.func.count()).where(
            Message.survey_id == survey.id, Message.step_key.like(f"{case.id}:reply-%")
        )
    )
    message = Message(
        survey_id=survey.id,
        agency_id=survey.agency_id,
        direction="outbound",
        channel=survey.channel,
        from_addr=survey.sender,
        to_addr=survey.contact,
        body=body,
        step_key=_step_key(case.id, int(sent_before or 0) + 1),
        status=QUEUED,
        created_at=now,
    )
    session.add(message)
    session.flush()
    history.record(
        session, case, "reply", actor, now, detail=template, body=body, message_id=message.id
    )
    case.replied_at = now
    # The job queued after commit sends it now; the sweeper only if that job is lost.
    case.reply_due_at = now + RETRY_AFTER
    if case.status in ("new", "in_progress"):
        before = case.status
        case.status = "waiting"
        history.record(session, case, "status", actor, now, detail=f"{before} -> waiting")
    case.updated_at = now
    notices.announce(
        session,
        case,
        notices.CASE_REPLIED,
        staff_email(session, case.assignee_id),
        now,
        template=template,
    )
    return message


def queue_after_commit(app: Flask, session: Session, case_id: str) -> None:
    """Hand the case's waiting replies to the job once ``session`` commits."""
    event.listen(session, "after_commit", lambda _s: _enqueue(app, case_id), once=True)


def _enqueue(app: Flask, case_id: str) -> None:
    try:
        queue.enqueue(app, queue.CASE_REPLY_JOB, case_id)
    except RedisError:  # the sweeper sends it from reply_due_at
        log.warning("case %s: reply not queued; the sweeper will send it", case_id)


def _later(app: Flask, case_id: str, at: datetime, now: datetime) -> None:
    """Try the case's replies again at ``at``: a job with Redis, the sweeper without."""
    if queue.in_process(app):
        return  # the sweeper finds reply_due_at
    queue.enqueue_in(app, max((at - now).total_seconds(), 1.0), queue.CASE_REPLY_JOB, case_id)


def send_waiting(app: Flask, case_id: str) -> None:
    """Send the case's waiting replies, each once, under the rules every text follows."""
    settings: Settings = app.extensions["settings"]
    database = db_of(app)
    for _ in range(MAX_PER_JOB):
        now = utcnow()
        with database.session() as session:
            claimed = _claim(app, session, case_id, settings, now)
        if claimed is None:
            return
        message_id = claimed.message_id
        if claimed.channel == "sms":
            with database.session() as session:
                outlet = outlets.outlet_of(app, session, claimed.survey_id)
            wait = pacing.sms_wait(app, outlet.pacing_sender, claimed.body)
            if wait > 0:
                _put_back(app, case_id, message_id, now + timedelta(seconds=wait))
                _later(app, case_id, now + timedelta(seconds=wait), now)
                return
            try:
                result = outlet.provider.send(
                    claimed.to, claimed.body, status_callback=texts.status_callback_url(settings)
                )
            except DeliveryError as exc:
                _failed(app, case_id, message_id, exc)
                return
            _sent(app, case_id, message_id, result.sid, result.status)
        else:
            try:
                result = providers_of(app).email.send(reply_email(app, claimed))
            except DeliveryError as exc:
                _failed(app, case_id, message_id, exc)
                return
            _sent(app, case_id, message_id, result.sid, result.status)


@dataclass(frozen=True)
class Claimed:
    """A reply taken for sending: its row, where it goes and in what language, and until
    when the respondent's answer to it is taken."""

    message_id: int
    survey_id: str
    channel: str
    to: str
    body: str
    language: str
    answers_until: datetime
    #: Who a reply by email is from: the survey's agency (its From, name and Reply-To).
    identity: EmailIdentity


def reply_email(app: Flask, claimed: Claimed) -> OutgoingEmail:
    """The reply by email: the agency's words, then the link to the page where the
    respondent writes back, which takes answers as long as a text would be taken."""
    answers_until = claimed.answers_until
    words = strings(claimed.language)
    settings: Settings = app.extensions["settings"]
    link = reply_url(links_of(app), base_url(settings), claimed.survey_id, answers_until)
    until = words.message(
        "reply.email_expires", date=format_date(answers_until.date(), claimed.language)
    )
    text = f"{claimed.body}\n\n{words.message('reply.email_link', link=link)}\n{until}\n"
    button = html.escape(words.message("reply.email_button"))
    return OutgoingEmail(
        to=claimed.to,
        from_address=claimed.identity.address,
        from_name=claimed.identity.name,
        reply_to=claimed.identity.reply_to,
        subject=EMAIL_SUBJECT.get(claimed.language, EMAIL_SUBJECT["en"]),
        text=text,
        html=(
            f"<p>{html.escape(claimed.body)}</p>"
            f'<p><a href="{html.escape(link)}">{button}</a></p>'
            f"<p>{html.escape(until)}</p>"
        ),
    )


def _claim(
    app: Flask, session: Session, case_id: str, settings: Settings, now: datetime
) -> Claimed | None:
    """Take the case's next waiting reply for sending, or settle why none may go now."""
    case = session.get(Case, case_id, with_for_update=True)
    if case is None:
        return None
    message = session.scalars(
        sa.select(Message)
        .where(
            Message.survey_id == case.survey_id,
            Message.status == QUEUED,
            Message.step_key.like(f"{case.id}:reply-%"),
        )
        .order_by(Message.id)
        .limit(1)
    ).first()
    if message is None:
        case.reply_due_at = None
        return None
    survey = session.get(Survey, case.survey_id)
    assert survey is not None
    if survey.channel == "sms" and opt_outs.is_hash_opted_out(
        session, survey.contact_hash, survey.agency_id
    ):
        _drop_all(session, case, "the respondent opted out of texts (STOP)", now)
        return None
    if not survey.contact:
        _drop_all(session, case, "the respondent's contact has been erased", now)
        return None
    if settings.quiet_hours:
        later = next_contact_time(flow_of(session, case), survey.contact, survey.channel, now)
        if later is not None:
            case.reply_due_at = later
            session.flush()
            _after(session, lambda: _later(app, case_id, later, now))
            return None
    message.status = messages.CLAIMED
    message.updated_at = now
    case.reply_due_at = now + RETRY_AFTER  # a worker dying mid-send: the sweeper retries
    return Claimed(
        message_id=message.id,
        survey_id=survey.id,
        channel=survey.channel,
        to=survey.contact,
        body=message.body,
        language=case.language,
        answers_until=(case.replied_at or now) + ANSWER_WINDOW,
        identity=email_identity(survey.agency),
    )


def _after(session: Session, action: object) -> None:
    assert callable(action)
    event.listen(session, "after_commit", lambda _s: action(), once=True)


def _drop_all(session: Session, case: Case, why: str, now: datetime) -> None:
    session.execute(
        sa.update(Message)
        .where(
            Message.survey_id == case.survey_id,
            Message.status == QUEUED,
            Message.step_key.like(f"{case.id}:reply-%"),
        )
        .values(status=NOT_SENT, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    case.reply_due_at = None
    history.record(session, case, "reply", "system", now, detail=f"not sent: {why}")


def _put_back(app: Flask, case_id: str, message_id: int, at: datetime) -> None:
    with db_of(app).session() as session:
        session.execute(sa.update(Message).where(Message.id == message_id).values(status=QUEUED))
        session.execute(sa.update(Case).where(Case.id == case_id).values(reply_due_at=at))


def _sent(app: Flask, case_id: str, message_id: int, sid: str, status: str) -> None:
    now = utcnow()
    with db_of(app).session() as session:
        session.execute(
            sa.update(Message)
            .where(Message.id == message_id)
            .values(provider_sid=sid, status=status, attempts=Message.attempts + 1, updated_at=now)
        )
        waiting = session.scalar(
            sa.select(Message.id)
            .join(Case, Case.survey_id == Message.survey_id)
            .where(
                Case.id == case_id,
                Message.status == QUEUED,
                Message.step_key.like(f"{case_id}:reply-%"),
            )
            .limit(1)
        )
        session.execute(
            sa.update(Case)
            .where(Case.id == case_id)
            .values(reply_due_at=now if waiting is not None else None)
        )


def _failed(app: Flask, case_id: str, message_id: int, exc: DeliveryError) -> None:
    """A retryable failure waits for the next try; any other is recorded for good."""
    now = utcnow()
    with db_of(app).session() as session:
        message = session.get(Message, message_id, with_for_update=True)
        case = session.get(Case, case_id, with_for_update=True)
        assert message is not None and case is not None
        message.attempts += 1
        message.error_code = exc.code[:32]
        if exc.retryable and not exc.opted_out and message.attempts < queue.MAX_SEND_ATTEMPTS:
            message.status = QUEUED
            case.reply_due_at = now + RETRY_AFTER
        else:
            message.status = "failed"
            case.reply_due_at = None
            why = "the number opted out (the provider said)" if exc.opted_out else exc.code
            history.record(session, case, "reply", "system", now, detail=f"not sent: {why}")
    # The code only: a provider's message may quote the number.
    log.warning("case %s: reply %s not sent (%s)", case_id, message_id, exc.code)


def due_cases(app: Flask, now: datetime) -> list[str]:
    """Cases whose waiting reply is due (the sweeper's part): each handed to the job."""
    with db_of(app).session() as session:
        ids = list(
            session.scalars(
                sa.select(Case.id)
                .where(Case.reply_due_at.is_not(None), Case.reply_due_at <= now)
                .order_by(Case.reply_due_at)
                .limit(SWEEP_BATCH)
            )
        )
    for case_id in ids:
        _enqueue(app, case_id)
    return ids


def _answerable(now: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    """A case that takes the respondent's answer at ``now``: sent a reply within
    :data:`ANSWER_WINDOW`, and not resolved."""
    return (
        Case.replied_at.is_not(None),
        Case.replied_at >= now - ANSWER_WINDOW,
        Case.status != "resolved",
    )


def _land(session: Session, case: Case, body: str, message_id: int | None, now: datetime) -> None:
    """The respondent's answer in ``case``: its history, the case back in progress, and
    the ``case.answered`` event."""
    history.record(session, case, "answer", "respondent", now, body=body, message_id=message_id)
    if case.status == "waiting":
        case.status = "in_progress"
        history.record(session, case, "status", "respondent", now, detail="waiting -> in_progress")
    case.updated_at = now
    notices.announce(
        session, case, notices.CASE_ANSWERED, staff_email(session, case.assignee_id), now
    )


def take_answer(session: Session, reply: events.LateReply) -> bool:
    """The late-reply listener: the text is the answer to a case's reply when the number
    was sent one within :data:`ANSWER_WINDOW` on this line, and the case is not resolved."""
    case = session.scalars(
        sa.select(Case)
        .join(Survey, Survey.id == Case.survey_id)
        .where(
            Survey.contact_hash == contact_hash(reply.from_),
            Survey.channel == "sms",
            open_surveys.on_line_of(reply.to),
            *_answerable(reply.now),
        )
        .order_by(Case.replied_at.desc())
        .limit(1)
        .with_for_update(of=Case)
    ).first()
    if case is None:
        return False
    inbound = session.scalars(
        sa.select(Message).where(Message.provider_sid == reply.sid, Message.direction == "inbound")
    ).first()
    if inbound is not None:  # the survey's messages show it too
        inbound.survey_id = case.survey_id
        inbound.agency_id = case.agency_id
    _land(session, case, reply.body, inbound.id if inbound is not None else None, reply.now)
    return True


def reply_thread(session: Session, survey_id: str, now: datetime) -> ReplyThread | None:
    """What the reply page shows of the survey's case; None when it has none, or was
    never replied to."""
    case = session.scalars(sa.select(Case).where(Case.survey_id == survey_id)).first()
    if case is None or case.replied_at is None:
        return None
    agency = session.get(Agency, case.agency_id)
    assert agency is not None
    message = session.scalar(
        sa.select(CaseEvent.body)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == "reply", CaseEvent.body.is_not(None))
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    takes = session.scalar(sa.select(Case.id).where(Case.id == case.id, *_answerable(now)))
    return ReplyThread(
        flow=flow_of(session, case),
        agency=agency.display_name or agency.name,
        language=case.language,
        message=message,
        open=takes is not None,
    )


def take_written_answer(session: Session, survey_id: str, body: str, now: datetime) -> bool:
    """An answer written on the reply page: it lands in the survey's case as a text's
    does (personal data masked as in every stored message), and is also one of the
    survey's messages. False when the case no longer takes answers. The same answer sent
    twice in a row (a double click, a form sent again) is kept once."""
    case = session.scalars(
        sa.select(Case).where(Case.survey_id == survey_id, *_answerable(now)).with_for_update()
    ).first()
    if case is None:
        return False
    stored = comment_arrival.stored_body(body, flow_of(session, case))
    last = session.scalar(
        sa.select(CaseEvent.body)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == "answer")
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    if last == stored:
        return True
    message = Message(
        survey_id=case.survey_id,
        agency_id=case.agency_id,
        direction="inbound",
        channel=WRITTEN_CHANNEL,
        body=stored,
        status="received",
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    session.flush()
    _land(session, case, stored, message.id, now)
    return True


#: What the reply page hands the web pages (:func:`gateway.web.reply_pages.serve`).
DESK: Final = ReplyDesk(thread=reply_thread, answer=take_written_answer)
