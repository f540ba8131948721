"""Security fixtures: two agencies (dmv and irs), each with a flow, a key and a staff
account, and a survey, a webhook subscription and a delivery that belong to dmv."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.agencies.keys import ensure_agency
from gateway.dashboard.auth import create_staff
from gateway.flows.registry import FlowRegistry
from gateway.store.db import db_of
from gateway.store.models import Answer, Survey
from gateway.store.results_models import Delivery, WebhookSubscription
from gateway.surveys.flow_versions import flow_source, record_flow_version

DMV_FLOW = """\
id: dmv-visit
version: 1
title: Office visit
agency: dmv
questions:
  - id: satisfied
    type: rating
    prompt: How satisfied were you?
  - id: comment
    type: text
    optional: true
    prompt: Anything else?
"""

IRS_FLOW = """\
id: irs-call
version: 1
title: Tax call
agency: irs
questions:
  - id: satisfied
    type: rating
    prompt: How satisfied were you?
"""

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class DmvRecords:
    """What dmv owns, by the ids an outsider would use to ask for it."""

    flow_id: str
    survey_id: str
    subscription_id: str
    delivery_id: int
    comment: str


@pytest.fixture
def flow_files() -> dict[str, str]:
    return {"dmv-visit.yaml": DMV_FLOW, "irs-call.yaml": IRS_FLOW}


@pytest.fixture
def dmv_records(app: Flask) -> DmvRecords:
    registry: FlowRegistry = app.extensions["flows"]
    flow = registry.get("dmv-visit")
    assert flow is not None
    comment = "The clerk at window 4 was rude"
    with db_of(app).session() as session:
        agency = ensure_agency(session, "dmv")
        version = record_flow_version(session, flow, flow_source(flow))
        session.flush()
        when = datetime(2026, 10, 1, 12, tzinfo=UTC)
        survey = Survey(
            id="sv_" + uuid.uuid4().hex[:20],
            agency_id=agency.id,
            flow_version_id=version.id,
            flow_id=flow.id,
            channel="sms",
            contact="+12025550123",
            language="en",
            context={},
            status="completed",
            created_at=when,
            sent_at=when,
            completed_at=when,
        )
        session.add(survey)
        session.add(Answer(survey=survey, question_id="satisfied", value=1, outcome="answered"))
        session.add(
            Answer(
                survey=survey, question_id="comment", value=comment, outcome="answered", raw=comment
            )
        )
        sub = WebhookSubscription(agency_id=agency.id, url="https://hooks.dmv.example.gov/x")
        session.add(sub)
        session.flush()
        delivery = Delivery(
            agency_id=agency.id,
            survey_id=survey.id,
            flow_id=flow.id,
            event="survey.completed",
            kind="webhook",
            target=sub.url,
            subscription_id=sub.id,
            body="{}",
        )
        session.add(delivery)
        session.flush()
        return DmvRecords(flow.id, survey.id, sub.id, delivery.id, comment)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> int:
    html = client.get("/dashboard/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    data = {"email": email, "password": password, "csrf_token": match.group(1)}
    return client.post("/dashboard/login", data=data).status_code


def add_staff(app: Flask, slug: str, email: str) -> None:
    with db_of(app).session() as session:
        create_staff(session, ensure_agency(session, slug), email, PASSWORD)


@pytest.fixture
def irs_staff(app: Flask) -> FlaskClient:
    """A test client signed in to the dashboard as irs staff."""
    add_staff(app, "irs", "staff@irs.example.gov")
    client = app.test_client()
    assert sign_in(client, "staff@irs.example.gov") == 302
    return client
