"""The survey email: composing it (one-click answers to the first question, the PRA
notice, an unsubscribe link) and sending it for a survey a trigger created.

Sending follows the SMS path's rules: the email is a :class:`Message` row written (and
committed) before the provider is called, the database session is closed during the call,
a retryable failure leaves the row ``pending`` for another attempt, and a permanent one
marks the survey ``failed`` with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from jinja2 import Environment, FileSystemLoader, select_autoescape

from channels.base import DeliveryError
from channels.email import OutgoingEmail
from config.settings import Settings
from gateway.agencies.profiles import email_identity
from gateway.engine.engine import new_state
from gateway.engine.types import Event, SessionState
from gateway.flows.model import Flow, Question
from gateway.flows.render import format_date, pick_text, pra_notice, render_question, render_text
from gateway.services.providers import providers_of
from gateway.store.db import db_of
from gateway.store.models import Message, Survey, utcnow
from gateway.surveys.lifecycle import apply_event, survey_flow
from gateway.surveys.links import LinkSigner, base_url, links_of, survey_url
from gateway.surveys.opt_outs import is_hash_opted_out
from gateway.web.pages import strings

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

#: Survey statuses in which the invitation has not gone out yet.
UNSENT = ("scheduled", "queued")
PENDING = "pending"
CLAIMED = "claimed"


@dataclass(frozen=True)
class AnswerLink:
    label: str
    url: str


def unsubscribe_url(links: LinkSigner, base: str, survey: Survey) -> str:
    return f"{base}/u/{links.make('unsubscribe', survey.id, survey.expires_at)}"


def one_click_answers(
    flow: Flow, question: Question, language: str, links: LinkSigner, base: str, survey: Survey
) -> list[AnswerLink]:
    """One signed link per answer when one click can answer the question (a rating, yes or
    no, a single choice); none otherwise."""
    words = strings(language)
    if question.type == "rating":
        lo, hi = question.scale
        items = []
        for n in range(lo, hi + 1):
            label = str(n)
            if question.scale == (1, 5) and n in (lo, hi):
                key = "survey.rating_low" if n == lo else "survey.rating_high"
                label = f"{n} – {words.message(key)}"
            items.append((str(n), label))
    elif question.type == "yesno":
        items = [("yes", words.message("survey.yes")), ("no", words.message("survey.no"))]
    elif question.type == "choice" and not question.multiple:
        items = [(o.value, pick_text(o.label, language)) for o in question.options]
    else:
        return []
    return [
        AnswerLink(
            label=label,
            url=f"{base}/a/"
            + links.make("answer", survey.id, survey.expires_at, question_id=question.id, value=v),
        )
        for v, label in items
    ]


def compose_invitation(
    flow: Flow,
    survey: Survey,
    state: SessionState,
    links: LinkSigner,
    base: str,
    agency_name: str,
    *,
    to: str | None = None,
) -> OutgoingEmail:
    """The email for a started survey: its first question answerable in one click, from
    the survey's agency (:func:`gateway.agencies.profiles.email_identity`).

    ``to``: another address than the survey's contact (a fallback email, docs/reach.md).
    """
    language = state.language or flow.default_language
    words = strings(language)
    context = state.context
    question = flow.questions[state.index] if state.phase == "question" else None
    answers = one_click_answers(flow, question, language, links, base, survey) if question else []
    unsubscribe = unsubscribe_url(links, base, survey)
    minutes = flow.pra.burden_minutes if flow.pra else None
    values = {
        "lang": language,
        "t": words.message,
        "title": pick_text(flow.title, language),
        "greeting": words.message("email.greeting", minutes=minutes)
        if minutes
        else words.message("email.greeting_no_burden"),
        "intro": render_text(flow.intro, language, context) if flow.intro else None,
        "prompt": render_question(flow, question, "email", language, context) if question else None,
        "answers": answers,
        "survey_url": survey_url(links, base, survey),
        "unsubscribe_url": unsubscribe,
        "notice": pra_notice(flow, "email", language),
        "expires": format_date(survey.expires_at.date(), language) if survey.expires_at else None,
        "agency": agency_name,
    }
    identity = email_identity(survey.agency)
    return OutgoingEmail(
        to=to or survey.contact,
        from_address=identity.address,
        from_name=identity.name,
        reply_to=identity.reply_to,
        subject=words.message("email.subject", title=values["title"]),
        text=_env.get_template("email/invitation.txt").render(values),
        html=_env.get_template("email/invitation.html").render(values),
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # Keeps vacation responders from answering a survey email.
            "Auto-Submitted": "auto-generated",
        },
    )


def send_invitation(app: Flask, survey_id: str, *, max_attempts: int) -> bool:
    """Start an email survey and send its email; True when a failed send is to be retried.

    Idempotent: the email is the survey's outbound message with step key ``{id}:0``; once
    it is sent (or simulated) nothing is sent again.
    """
    settings: Settings = app.extensions["settings"]
    links = links_of(app)
    now = utcnow()
    database = db_of(app)
    with database.session() as session:
        survey = session.get(Survey, survey_id, with_for_update=True)
        if survey is None:
            raise LookupError(f"survey {survey_id} does not exist")
        if survey.send_at is not None and survey.send_at > now and survey.status == "scheduled":
            return False  # early (clock skew): the sweeper starts it when due
        step_key = f"{survey.id}:0"
        message = session.scalars(sa.select(Message).where(Message.step_key == step_key)).first()
        if message is not None and message.status not in (PENDING,):
            return False
        if message is None and survey.status not in UNSENT:
            return False
        if is_hash_opted_out(session, survey.contact_hash, survey.agency_id):
            survey.status = "opted_out"
            survey.failure_reason = "the address has unsubscribed from survey emails"
            return False
        flow = survey_flow(survey)
        if not survey.state or SessionState.from_dict(survey.state).phase == "new":
            context = {str(k): str(v) for k, v in (survey.context or {}).items()}
            survey.state = new_state(flow, "email", survey.language, context).to_dict()
            apply_event(session, survey, Event("start"), now=now, max_reprompts=0)
        if survey.expires_at is None and flow.expires_after is not None:
            survey.expires_at = now + flow.expires_after
        email = compose_invitation(
            flow,
            survey,
            SessionState.from_dict(survey.state),
            links,
            base_url(settings),
            survey.agency.name,
        )
        if message is None:
            message = Message(
                survey_id=survey.id,
                agency_id=survey.agency_id,
                direction="outbound",
                channel="email",
                from_addr=email.from_address or settings.email_from,
                to_addr=survey.contact,
                body=email.text,
                step_key=step_key,
                status=PENDING,
            )
            session.add(message)
        message.body = email.text
        message.status = CLAIMED
        message.attempts = (message.attempts or 0) + 1
        session.flush()
        message_id = message.id
        attempts = message.attempts
    # The session is closed: a slow SMTP server holds no database row or connection.
    try:
        result = providers_of(app).email.send(email)
    except DeliveryError as exc:
        return _record_failure(app, survey_id, message_id, exc, retry=attempts < max_attempts)
    with database.session() as session:
        message = session.get(Message, message_id)
        survey = session.get(Survey, survey_id, with_for_update=True)
        assert message is not None and survey is not None
        message.status = result.status
        message.provider_sid = result.sid
        message.error_code = None
        if survey.status in UNSENT:
            survey.status = "sent"
            survey.sent_at = utcnow()
    return False


def _record_failure(
    app: Flask, survey_id: str, message_id: int, exc: DeliveryError, *, retry: bool
) -> bool:
    with db_of(app).session() as session:
        message = session.get(Message, message_id)
        survey = session.get(Survey, survey_id, with_for_update=True)
        assert message is not None and survey is not None
        message.error_code = exc.code
        if exc.retryable and retry:
            message.status = PENDING
            survey.failure_reason = f"retrying after error {exc.code}: {exc.message}"[:500]
            log.info("survey %s: email failed (%s), will retry", survey_id, exc.code)
            return True
        message.status = "failed"
        if survey.status in UNSENT:
            survey.status = "failed"
        survey.failure_reason = f"error {exc.code}: {exc.message}"[:500]
        log.warning("survey %s: email failed for good: %s", survey_id, exc)
        return False
