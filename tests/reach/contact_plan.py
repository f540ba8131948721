"""A gateway with the contact-plan test flows (reminders, fallback channels), driven as
an agency (API), a respondent (signed SMS webhooks, the web pages, a phone) and the
sweeper at chosen moments."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from channels.email import SimulatedEmail
from channels.sms import SimulatedSms
from gateway.sending.sweeper import sweep
from gateway.services.providers import providers_of
from gateway.store.attempt_models import ContactAttempt
from gateway.store.db import db_of
from gateway.store.models import Survey
from tests.sms.support import Gateway, make_gateway

FLOWS = Path(__file__).resolve().parent / "contact_plan_flows"
FLOW = "reach-reminded"
LANDLINE = "+442079460958"  # a London landline: no texts, calls welcome
EMAIL = "pat.doe@example.gov"
REMINDER_EN = "Reminder: we would still like your feedback. It takes a minute."
REMINDER_ES = "Recordatorio: todavía nos gustaría conocer su opinión. Toma un minuto."
LINK = re.compile(r"https://gateway\.example\.gov/s/\S+")


def reach_gateway(database_url: str, **overrides: Any) -> Gateway:
    return make_gateway(database_url, flows_dir=FLOWS, **overrides)


def when(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def sweep_at(gw: Gateway, survey_id: str, after: timedelta) -> None:
    """Run the sweeper at the survey's first contact plus ``after``."""
    sweep(gw.app, now=when(gw.survey(survey_id)["sent_at"]) + after)


def texts_sent(gw: Gateway) -> list[str]:
    """Every text the (simulated) provider was handed, in order."""
    sender = providers_of(gw.app).sms
    assert isinstance(sender, SimulatedSms)
    return [m.body for m in sender.sent]


def emails_sent(gw: Gateway) -> list[Any]:
    sender = providers_of(gw.app).email
    assert isinstance(sender, SimulatedEmail)
    return [record.email for record in sender.sent]


def attempts_of(gw: Gateway, survey_id: str) -> list[tuple[str, int, str, str]]:
    """(kind, number, channel, outcome) of each attempt, as the API shows them."""
    return [
        (a["kind"], a["number"], a["channel"], a["outcome"])
        for a in gw.survey(survey_id)["attempts"]
    ]


def attempt_rows(gw: Gateway, survey_id: str) -> list[ContactAttempt]:
    with db_of(gw.app).session() as session:
        return list(
            session.scalars(
                sa.select(ContactAttempt)
                .where(ContactAttempt.survey_id == survey_id)
                .order_by(ContactAttempt.id)
            )
        )


def survey_count(gw: Gateway) -> int:
    with db_of(gw.app).session() as session:
        return int(session.scalar(sa.select(sa.func.count(Survey.id))) or 0)


def age(gw: Gateway, survey_id: str, delta: timedelta) -> None:
    """Move the survey and its attempts ``delta`` into the past, as if that much time had
    gone by since its first contact (answers given afterwards carry the present time)."""
    with db_of(gw.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None and survey.sent_at is not None
        survey.sent_at -= delta
        survey.created_at -= delta
        if survey.expires_at is not None:
            survey.expires_at -= delta
        for row in session.scalars(
            sa.select(ContactAttempt).where(ContactAttempt.survey_id == survey_id)
        ):
            if row.attempted_at is not None:
                row.attempted_at -= delta
            if row.due_at is not None:
                row.due_at -= delta
