"""Consent before an SMS survey (a flow's ``consent: required``).

The survey's first text asks for consent ("Reply YES to take a 2-minute survey") instead
of the first question; nothing more is asked until the respondent replies YES (or SÍ).
The wording sent and the times it was asked and given are kept on the survey, as the
record of the respondent's consent.
"""

from __future__ import annotations

from datetime import datetime

from gateway.engine.parsing import parse_sms
from gateway.flows.catalog import message as catalog_message
from gateway.flows.model import Flow, Question
from gateway.flows.render import pick_text
from gateway.store.models import Survey

#: Burden shown when the flow's PRA block gives none.
DEFAULT_MINUTES = 2

_YES_OR_NO = Question(id="consent", type="yesno", prompt={"en": "Consent"})


def needs_consent(flow: Flow, survey: Survey) -> bool:
    """Whether ``survey`` must ask for consent before its first question."""
    return flow.consent_required and survey.channel == "sms"


def awaiting_consent(survey: Survey) -> bool:
    """Consent was asked for and not (yet) given."""
    return survey.consent_asked_at is not None and survey.consent_given_at is None


def consent_wording(flow: Flow, language: str) -> str:
    minutes = (flow.pra.burden_minutes if flow.pra else None) or DEFAULT_MINUTES
    title = pick_text(flow.title, language)
    return catalog_message(language, "consent.ask", title=title, minutes=minutes)


def ask(survey: Survey, flow: Flow, now: datetime) -> str:
    """Record that consent is being asked for, and return the text that asks."""
    wording = consent_wording(flow, survey.language)
    survey.consent_text = wording
    survey.consent_asked_at = now
    return wording


def gives_consent(body: str, language: str) -> bool:
    """Whether the reply is a yes (YES, Y, SÍ, "yes please"...), read as the engine reads a
    yes/no answer."""
    parsed = parse_sms(_YES_OR_NO, body, language)
    return parsed.ok and parsed.value == "yes"


def record_consent(survey: Survey, now: datetime) -> None:
    survey.consent_given_at = now
