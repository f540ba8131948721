"""Reminders: another text or email to a respondent who has not answered.

"Not answered" means no answer at all: a reminder goes only while the survey is ``sent``
(contacted, nothing answered, not opened on the web). A respondent who answered one
question and stopped is not reminded. The wording is the message catalog's
``reminder.sms`` (``reminder.email_subject`` for an email), in the respondent's
language, or the flow's own ``text``; an SMS reminder repeats the question that waits
for an answer, so it can be answered at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gateway.engine.types import SessionState
from gateway.flows.catalog import catalog
from gateway.flows.model import Flow
from gateway.flows.render import pick_text, render_question, render_text
from gateway.reach import attempts
from gateway.store.attempt_models import ContactAttempt
from gateway.store.models import Message, Survey
from gateway.surveys import messages

#: A reminder or fallback email waiting for its send job (not a text's ``pending``).
EMAIL_PENDING = "email_pending"


def wording(flow: Flow, survey: Survey, number: int) -> str:
    """The reminder's own words: the flow's ``text`` for it, else the catalog's."""
    reminder = flow.reminders[number - 1] if number <= len(flow.reminders) else None
    context = {str(k): str(v) for k, v in (survey.context or {}).items()}
    if reminder is not None and reminder.text is not None:
        return render_text(reminder.text, survey.language, context)
    return catalog(survey.language).message("reminder.sms")


def sms_text(flow: Flow, survey: Survey, number: int) -> str:
    """The reminder text: its wording, then what the survey waits for an answer to."""
    parts = [wording(flow, survey, number)]
    state = SessionState.from_dict(survey.state) if survey.state else None
    if state is not None and state.phase == "question" and state.index < len(flow.questions):
        question = flow.questions[state.index]
        context = {str(k): str(v) for k, v in state.context.items()}
        parts.append(render_question(flow, question, "sms", survey.language, context))
    elif survey.consent_text and survey.consent_given_at is None:
        parts.append(survey.consent_text)
    return "\n\n".join(parts)


def email_subject(flow: Flow, survey: Survey) -> str:
    title = pick_text(flow.title, survey.language)
    return catalog(survey.language).message("reminder.email_subject", title=title)


def record(
    session: Session,
    survey: Survey,
    row: ContactAttempt,
    flow: Flow,
    sender: str | None,
    now: datetime,
) -> None:
    """Write the reminder as a pending outbound message keyed by the attempt (the send
    job sends it once, paced like every text), and mark the attempt made."""
    if row.channel == "sms":
        body = sms_text(flow, survey, row.number)
        sender = survey.sender
    else:
        body = ""  # composed when sent (gateway.sending.due.send_email)
        # Set apart from pending texts, which the survey's send job sends.
    session.add(
        Message(
            survey_id=survey.id,
            agency_id=survey.agency_id,
            direction="outbound",
            channel=row.channel,
            from_addr=sender,
            to_addr=survey.contact,
            body=body,
            step_key=row.step_key,
            status=messages.PENDING if row.channel == "sms" else EMAIL_PENDING,
        )
    )
    attempts.finish(row, "sent", now)
