"""Escalation: an overdue case is emailed to its team once per due time and announced as
``case.overdue``; each team gets one digest a day of its cases due."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from channels.base import DeliveryError
from channels.email import SimulatedEmail
from gateway.alerts.rules import DISPATCH_KEY
from gateway.cases import escalation
from gateway.sending import sweeper
from gateway.services.providers import providers_of
from gateway.store.db import db_of
from gateway.store.results_models import Delivery
from tests.cases.conftest import ANALYST, answer_survey, api
from tests.sms.support import Gateway

DESK = "desk@dmv.example.gov"
# Cases of answer_survey open on Monday 5 October 2026 at 14:03 UTC, due two business
# days later at the end of the business day (the flow names no zone: UTC): Wednesday
# 7 October at 17:00.
BEFORE_DUE = datetime(2026, 10, 7, 16, 55, tzinfo=UTC)
AFTER_DUE = datetime(2026, 10, 7, 17, 5, tzinfo=UTC)


def _emails(gateway: Gateway) -> list[tuple[str, str, str]]:
    email = providers_of(gateway.app).email
    assert isinstance(email, SimulatedEmail)
    return [(r.email.to, r.email.subject, r.email.text) for r in email.sent]


def _case_id(gateway: Gateway) -> str:
    answer_survey(gateway, "1", "yes")
    return str(
        gateway.client.get("/api/v1/cases", headers=api(gateway)).get_json()["data"][0]["id"]
    )


def test_an_overdue_case_is_emailed_to_its_team_once(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(gateway.app.extensions, DISPATCH_KEY, lambda ids: None)
    gateway.client.post(
        "/api/v1/webhooks",
        json={"url": "https://crm.dmv.example.gov/events", "events": ["case.overdue"]},
        headers=api(gateway),
    )
    case_id = _case_id(gateway)
    assert escalation.escalate_overdue(gateway.app, BEFORE_DUE) == []
    assert escalation.escalate_overdue(gateway.app, AFTER_DUE) == [case_id]
    ((to, subject, text),) = _emails(gateway)
    assert to == DESK and subject == f"Overdue case {case_id} (high, unassigned)"
    assert f"/dashboard/cases/{case_id}" in text
    assert escalation.escalate_overdue(gateway.app, AFTER_DUE) == []
    assert len(_emails(gateway)) == 1
    case = gateway.client.get(f"/api/v1/cases/{case_id}", headers=api(gateway)).get_json()
    assert case["history"][-1]["kind"] == "escalated"
    assert case["history"][-1]["detail"] == "overdue, unassigned"
    with db_of(gateway.app).session() as session:
        events = list(session.scalars(sa.select(Delivery.event)))
    assert events == ["case.overdue"]


def test_a_resolved_case_is_not_escalated_and_a_reopened_one_is_again(
    gateway: Gateway,
) -> None:
    case_id = _case_id(gateway)
    url = f"/api/v1/cases/{case_id}"
    gateway.client.patch(url, json={"assignee": ANALYST}, headers=api(gateway))
    escalation.escalate_overdue(gateway.app, AFTER_DUE)
    assert _emails(gateway)[0][1].endswith("(high, unresolved)")
    gateway.client.patch(
        url, json={"status": "resolved", "resolution": "fixed"}, headers=api(gateway)
    )
    gateway.client.patch(url, json={"status": "in_progress"}, headers=api(gateway))
    reopened = gateway.client.get(url, headers=api(gateway)).get_json()
    assert reopened["escalated_at"] is None
    due = datetime.fromisoformat(reopened["due_at"])
    assert escalation.escalate_overdue(gateway.app, due) == [case_id]


def test_a_failed_escalation_email_is_tried_again_next_sweep(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = _case_id(gateway)
    email = providers_of(gateway.app).email

    def refuse(_email: Any) -> Any:
        raise DeliveryError("smtp", "server unavailable", retryable=True)

    monkeypatch.setattr(email, "send", refuse)
    assert escalation.escalate_overdue(gateway.app, AFTER_DUE) == []
    monkeypatch.undo()
    assert escalation.escalate_overdue(gateway.app, AFTER_DUE) == [case_id]


def test_each_team_gets_one_digest_a_day(gateway: Gateway) -> None:
    case_id = _case_id(gateway)
    morning = datetime(2026, 10, 6, 12, 30, tzinfo=UTC)
    assert escalation.send_digests(gateway.app, morning.replace(hour=9)) == []  # too early
    assert escalation.send_digests(gateway.app, morning) == [("dmv", "front-desk")]
    ((to, subject, text),) = _emails(gateway)
    assert (to, subject) == (DESK, "Cases due for front-desk: 1")
    assert case_id in text
    assert escalation.send_digests(gateway.app, morning.replace(hour=18)) == []
    assert escalation.send_digests(gateway.app, morning.replace(day=7)) == [("dmv", "front-desk")]


def test_the_sweeper_escalates_overdue_cases_and_sends_the_digest(gateway: Gateway) -> None:
    case_id = _case_id(gateway)
    sweeper.sweep(gateway.app, BEFORE_DUE)
    assert [subject for _to, subject, _text in _emails(gateway)] == ["Cases due for front-desk: 1"]
    sweeper.sweep(gateway.app, AFTER_DUE)
    assert [subject for _to, subject, _text in _emails(gateway)] == [
        "Cases due for front-desk: 1",
        f"Overdue case {case_id} (high, unassigned)",
    ]
