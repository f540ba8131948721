"""Cases as the API returns them and the dashboard's case page reads them: the case, and
for one case its survey's answers, the conversation, the contact attempts, the history
and the linked cases.

The respondent's words (free-text answers, the conversation's texts, the replies sent to
them and their answers) are for readers allowed the comments: a document made without
them (``words=False``) has each such value None and marked ``withheld``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.cases.work import flow_of, linked_ids, resolutions
from gateway.flows.render import pick_text
from gateway.store.attempt_models import ContactAttempt
from gateway.store.case_models import Case, CaseEvent
from gateway.store.models import Answer, Message, Survey
from gateway.store.results_models import StaffMember
from gateway.surveys.serializers import timestamp

#: History entries whose body is words sent to the respondent or theirs.
WORDS_KINDS: Final = ("reply", "answer")


def assignees(session: Session, cases: Iterable[Case]) -> dict[int, str]:
    """Staff id to email, for the cases' assignees (one query)."""
    ids = {c.assignee_id for c in cases if c.assignee_id is not None}
    if not ids:
        return {}
    rows = session.execute(
        sa.select(StaffMember.id, StaffMember.email).where(StaffMember.id.in_(ids))
    )
    return {staff_id: email for staff_id, email in rows}


def case_json(case: Case, emails: dict[int, str]) -> dict[str, Any]:
    return {
        "id": case.id,
        "survey_id": case.survey_id,
        "flow": case.flow_id,
        "channel": case.channel,
        "language": case.language,
        "office": case.office,
        "status": case.status,
        "priority": case.priority,
        "resolution": case.resolution,
        "team": case.team,
        "assignee": emails.get(case.assignee_id) if case.assignee_id is not None else None,
        "rule": case.rule,
        "opened_by": case.opened_by,
        "contact_consent": case.contact_consent,
        "opened_at": timestamp(case.opened_at),
        "due_at": timestamp(case.due_at),
        "first_action_at": timestamp(case.first_action_at),
        "resolved_at": timestamp(case.resolved_at),
        "escalated_at": timestamp(case.escalated_at),
        "replied_at": timestamp(case.replied_at),
        # When a reply waiting to go out (quiet hours, pacing, a retry) is next tried.
        "reply_due_at": timestamp(case.reply_due_at),
    }


def event_json(event: CaseEvent, words: bool = True) -> dict[str, Any]:
    document = {
        "at": timestamp(event.at),
        "actor": event.actor,
        "kind": event.kind,
        "detail": event.detail,
        "body": event.body,
    }
    return document if words or event.kind not in WORDS_KINDS else _withheld(document, "body")


def _withheld(document: dict[str, Any], field: str) -> dict[str, Any]:
    return {**document, field: None, "withheld": True}


def detail(session: Session, case: Case, *, words: bool = True) -> dict[str, Any]:
    """Everything about one case: the case, the survey's answers (with each question's
    wording), its messages, its contact attempts, the history, the linked cases, and
    what the flow lets staff pick (resolution codes, reply templates); without the
    respondent's words unless ``words``."""
    flow = flow_of(session, case)
    free_text = {q.id for q in flow.questions if q.type == "text"}
    survey = session.get(Survey, case.survey_id)
    assert survey is not None
    answers = list(
        session.scalars(
            sa.select(Answer).where(Answer.survey_id == case.survey_id).order_by(Answer.id)
        )
    )
    prompts = {q.id: pick_text(q.prompt, case.language) for q in flow.questions}
    messages = session.scalars(
        sa.select(Message)
        .where(Message.survey_id == case.survey_id)
        .order_by(Message.created_at, Message.id)
    )
    attempts = session.scalars(
        sa.select(ContactAttempt)
        .where(ContactAttempt.survey_id == case.survey_id)
        .order_by(ContactAttempt.id)
    )
    events = session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    )
    return {
        **case_json(case, assignees(session, [case])),
        "survey": {
            "status": survey.status,
            "context": survey.context or {},
            "completed_at": timestamp(survey.completed_at),
        },
        "answers": [
            _answer_json(a, prompts, words or a.question_id not in free_text) for a in answers
        ],
        "messages": [_message_json(m, words) for m in messages],
        "attempts": [
            {
                "kind": a.kind,
                "number": a.number,
                "channel": a.channel,
                "outcome": a.outcome,
                "detail": a.detail,
                "at": timestamp(a.attempted_at or a.due_at or a.created_at),
            }
            for a in attempts
        ],
        "history": [event_json(e, words) for e in events],
        "links": linked_ids(session, case.id),
        "resolutions": list(resolutions(flow)),
        "replies": [r.name for r in (flow.cases.replies if flow.cases else ())],
    }


def _answer_json(answer: Answer, prompts: dict[str, str], shown: bool) -> dict[str, Any]:
    document = {
        "question": answer.question_id,
        "prompt": prompts.get(answer.question_id, answer.question_id),
        "value": answer.value,
        "outcome": answer.outcome,
    }
    return document if shown or answer.outcome != "answered" else _withheld(document, "value")


def _message_json(message: Message, words: bool) -> dict[str, Any]:
    document = {
        "direction": message.direction,
        "channel": message.channel,
        "body": message.body,
        "status": message.status,
        "at": timestamp(message.created_at),
    }
    return document if words else _withheld(document, "body")
