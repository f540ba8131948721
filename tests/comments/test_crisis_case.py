"""The case a crisis comment opens is urgent and due within hours (the flow's
``comments.crisis.due``, one hour by default), and is escalated when it is overdue like
any other case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import responses

from gateway.alerts import delivery as alert_delivery
from gateway.cases import work
from gateway.cases.escalation import claim_overdue
from gateway.cases.opening import open_case
from gateway.flows.loader import load_flow_text
from gateway.store.case_models import Case
from gateway.store.db import db_of
from gateway.store.models import Survey
from gateway.surveys.flow_versions import flow_for_version_id
from tests.comments.support import CRISIS_HOOK, FLOWS, converse
from tests.sms.support import Gateway, make_gateway, replies

CRISIS = "I want to kill myself, nobody helps"
FLOW = (FLOWS / "comment-visit.yaml").read_text(encoding="utf-8")
ROUTE = "    webhook: https://crisis.dmv.example.gov/hook\n"


def the_case(gw: Gateway, survey_id: str) -> Case:
    (case,) = gw.rows(Case, Case.survey_id == survey_id)
    return case


@responses.activate
def test_a_crisis_case_is_urgent_and_due_in_one_hour_then_escalated_when_overdue(
    gw: Gateway,
) -> None:
    responses.add(responses.POST, CRISIS_HOOK, status=204)
    survey_id, _ = converse(gw, ["4", CRISIS])
    case = the_case(gw, survey_id)
    assert case.priority == "urgent"
    assert case.due_at == case.opened_at + timedelta(hours=1)

    assert claim_overdue(gw.app, case.opened_at + timedelta(minutes=59)) == []
    assert the_case(gw, survey_id).escalated_at is None
    claim_overdue(gw.app, case.opened_at + timedelta(minutes=61))
    assert the_case(gw, survey_id).escalated_at == case.opened_at + timedelta(minutes=61)


@responses.activate
def test_a_crisis_raises_an_open_case_to_urgent_and_brings_its_due_time_forward(
    gw: Gateway,
) -> None:
    responses.add(responses.POST, CRISIS_HOOK, status=204)
    survey_id = gw.trigger(flow="comment-visit", context={"office": "Main"})["id"]
    replies(gw.text("4"))
    with db_of(gw.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        flow = flow_for_version_id(session, survey.flow_version_id)
        case, opened = open_case(
            session, survey, flow, actor="staff@dmv.example.gov", now=survey.created_at
        )
        assert opened and case.priority == "normal"
        assert case.due_at - case.opened_at > timedelta(days=5)
    replies(gw.text(CRISIS))
    alert_delivery.wait_for_background(gw.app)
    case = the_case(gw, survey_id)
    assert case.priority == "urgent"
    assert case.due_at <= case.updated_at + timedelta(hours=1)


@responses.activate
def test_a_crisis_reopens_a_case_already_resolved(gw: Gateway) -> None:
    responses.add(responses.POST, CRISIS_HOOK, status=204)
    survey_id = gw.trigger(flow="comment-visit", context={"office": "Main"})["id"]
    replies(gw.text("4"))
    with db_of(gw.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        flow = flow_for_version_id(session, survey.flow_version_id)
        case, _ = open_case(
            session, survey, flow, actor="staff@dmv.example.gov", now=survey.created_at
        )
        code = work.resolutions(flow)[0]
        work.change_status(
            session, case, "resolved", code, "staff@dmv.example.gov", survey.created_at
        )
    replies(gw.text(CRISIS))
    alert_delivery.wait_for_background(gw.app)
    case = the_case(gw, survey_id)
    assert (case.status, case.priority, case.resolution) == ("new", "urgent", None)
    assert case.due_at <= case.updated_at + timedelta(hours=1)


@pytest.fixture
def three_hours(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    assert ROUTE in FLOW
    (tmp_path / "comment-visit.yaml").write_text(FLOW.replace(ROUTE, ROUTE + "    due: 3 hours\n"))
    gateway = make_gateway(
        database_url, flows_dir=tmp_path, outbound_allowlist=("https://crisis.dmv.example.gov",)
    )
    yield gateway
    alert_delivery.wait_for_background(gateway.app)


@responses.activate
def test_the_flow_sets_how_soon_a_crisis_case_is_due(three_hours: Gateway) -> None:
    responses.add(responses.POST, CRISIS_HOOK, status=204)
    survey_id, _ = converse(three_hours, ["4", CRISIS])
    case = the_case(three_hours, survey_id)
    assert case.due_at == case.opened_at + timedelta(hours=3)


@pytest.mark.parametrize(
    ("due", "error"),
    [
        ("2 business days", "comments: crisis: due must be 1 to 24 hours, not 2 business days"),
        ("30 hours", "comments: crisis: due must be 1 to 24 hours, not 30"),
        ("0 hours", "comments: crisis: due must be 1 to 24 hours, not 0"),
        (
            "soon",
            "comments: crisis: due 'soon' is not a time such as '2 business days' or '4 hours'",
        ),
    ],
)
def test_a_crisis_due_time_that_is_not_hours_within_a_day_is_refused_at_its_line(
    due: str, error: str
) -> None:
    text = FLOW.replace(ROUTE, ROUTE + f"    due: {due}\n")
    result = load_flow_text(text, "comment-visit.yaml")
    assert result.flow is None
    line = text.splitlines().index(f"    due: {due}") + 1
    assert [(e.line, e.message) for e in result.errors] == [(line, error)]


def test_without_a_due_time_a_crisis_case_is_due_in_one_hour() -> None:
    flow = load_flow_text(FLOW, "comment-visit.yaml").flow
    assert flow is not None and flow.comments is not None and flow.comments.crisis is not None
    assert flow.comments.crisis.due_hours == 1
