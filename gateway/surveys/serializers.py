"""Surveys as the API shows them (JSON) and as CSV cells."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.store.models import Survey

#: Characters that make a spreadsheet treat a cell as a formula (and tab/CR, which some
#: spreadsheets strip before looking).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def timestamp(value: datetime | None) -> str | None:
    """ISO-8601 in UTC with a ``Z``, or None."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def survey_json(survey: Survey) -> dict[str, Any]:
    """The contract's survey representation (needs answers, messages and flow_version loaded)."""
    return {
        "id": survey.id,
        "flow": survey.flow_id,
        "flow_version": survey.flow_version.version,
        "channel": survey.channel,
        # null once the contact is erased (docs/privacy.md), and for public-link surveys
        "to": survey.contact or None,
        "language": survey.language,
        "status": survey.status,
        "context": survey.context,
        "answers": {a.question_id: a.value for a in survey.answers},
        "created_at": timestamp(survey.created_at),
        "send_at": timestamp(survey.send_at),
        "sent_at": timestamp(survey.sent_at),
        "started_at": timestamp(survey.started_at),
        "completed_at": timestamp(survey.completed_at),
        "expires_at": timestamp(survey.expires_at),
        "failure_reason": survey.failure_reason,
        # Why a survey was cancelled before it started ("fatigue"), else null.
        "reason": survey.failure_reason if survey.status == "cancelled" else None,
        "handoff": handoff_json(survey),
        "consent": consent_json(survey),
        "messages": [
            {
                "direction": m.direction,
                "channel": m.channel,
                "body": m.body,
                "status": m.status,
                "created_at": timestamp(m.created_at),
            }
            for m in survey.messages
        ],
    }


def consent_json(survey: Survey) -> dict[str, str | None] | None:
    """The consent asked for before the first question (a flow's ``consent: required``):
    the wording sent, when, and when the respondent said yes (null until then)."""
    if survey.consent_asked_at is None:
        return None
    return {
        "text": survey.consent_text,
        "asked_at": timestamp(survey.consent_asked_at),
        "given_at": timestamp(survey.consent_given_at),
    }


def handoff_json(survey: Survey) -> dict[str, str] | None:
    """The survey's channel switch (a question marked ``handoff: web`` reached on SMS):
    the channel it left, the one it continues on and the question it continued at.
    ``channel`` keeps the channel the survey started on, for reporting."""
    state = survey.state or {}
    origin = state.get("handed_off_from")
    if not origin:
        return None
    return {"from": origin, "to": state.get("channel"), "question": state.get("handoff_question")}


def csv_cell(value: Any) -> str:
    """One CSV cell: lists joined with ``;``, None empty, text defused against formulas.

    Numbers are the gateway's own parse of an answer and written as they are; any text
    (a respondent's words, a context value) that a spreadsheet would run as a formula gets
    a leading single quote.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        text = ";".join(str(v) for v in value)
    elif isinstance(value, datetime):
        return timestamp(value) or ""
    else:
        text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
