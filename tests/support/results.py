"""Results fixtures: test flows of two agencies, an app on SQLite and PostgreSQL, and a
helper that writes surveys with their answers straight into the store. The results test
packages (alerts, dashboard, exports, reports) take them in their conftest."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask

from config.settings import Settings
from gateway.agencies.keys import ensure_agency
from gateway.flows.registry import FlowRegistry
from gateway.store.db import db_of
from gateway.store.models import Agency, Answer, Survey
from gateway.surveys.flow_versions import flow_source, record_flow_version

V2_FLOW = """\
id: visit-v2
version: 1
title: Office visit
agency: dmv
a11:
  service: Driver license renewal
  transaction_point: post-interaction
pra:
  omb_control_number: "1234-5678"
  expiration_date: 2099-06-30
context: [office]
questions:
  - id: trust
    type: yesno
    a11: trust
    prompt: I trust the DMV to deliver on its mission.
  - id: went_well
    type: choice
    multiple: true
    optional: true
    a11: went_well
    when: trust == "yes"
    prompt: What went well?
    options:
      - {value: effectiveness, label: Got what I needed}
      - {value: ease, label: Easy}
      - {value: efficiency, label: Quick}
      - {value: other, label: Something else}
  - id: went_poorly
    type: choice
    multiple: true
    optional: true
    a11: went_poorly
    when: trust == "no"
    prompt: What didn't go well?
    options:
      - {value: effectiveness, label: Did not get what I needed}
      - {value: ease, label: Hard}
      - {value: efficiency, label: Slow}
      - {value: transparency, label: Unclear}
      - {value: humanity, label: Disrespected}
      - {value: employee, label: Staff unhelpful}
      - {value: other, label: Something else}
  - id: comment
    type: text
    optional: true
    a11: comment
    prompt: Anything else?
alerts:
  - name: distrust
    when: trust == "no"
    webhook: https://hooks.dmv.example.gov/recovery
    email: office@dmv.example.gov
"""

SEVEN_FLOW = """\
id: call-drivers
version: 1
title: Call center
agency: dmv
channels: [sms, voice]
questions:
  - id: satisfied
    type: rating
    a11: satisfaction
    prompt: I am satisfied with the service I received.
  - id: confidence
    type: rating
    a11: trust
    prompt: This interaction increased my confidence in the DMV.
  - id: easy
    type: rating
    a11: ease
    prompt: It was easy to complete what I needed to do.
  - id: comment
    type: text
    optional: true
    prompt: Anything else?
"""

OTHER_AGENCY_FLOW = """\
id: tax-call
version: 1
title: Tax call
agency: irs
questions:
  - id: trust
    type: yesno
    a11: trust
    prompt: Do you trust the IRS?
  - id: went_well
    type: choice
    a11: went_well
    prompt: What went well?
    options:
      - {value: ease, label: Easy}
"""

FLOWS = {
    "visit-v2.yaml": V2_FLOW,
    "call-drivers.yaml": SEVEN_FLOW,
    "tax-call.yaml": OTHER_AGENCY_FLOW,
}

AddSurvey = Callable[..., str]


@pytest.fixture
def flow_files() -> dict[str, str]:
    return FLOWS


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    # The test receivers' names resolve nowhere: the operator's allowlist names them.
    return dataclasses.replace(
        settings,
        database_url=database_url,
        outbound_allowlist=("https://hooks.dmv.example.gov", "https://crm.dmv.example.gov"),
    )


@pytest.fixture
def add_survey(app: Flask) -> AddSurvey:
    return survey_adder(app)


def survey_adder(app: Flask) -> AddSurvey:
    """A function writing one survey of a loaded flow with its answers; it returns the id.

    ``answers`` maps question ids to values (answered), or to ``("skipped", None)``.
    """

    def add(
        flow_id: str,
        created_at: datetime,
        *,
        channel: str = "sms",
        status: str = "completed",
        answers: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        sent_at: datetime | None = None,
        language: str = "en",
        completed_at: datetime | None = None,
    ) -> str:
        registry: FlowRegistry = app.extensions["flows"]
        flow = registry.get(flow_id)
        assert flow is not None, flow_id
        with db_of(app).session() as session:
            agency = ensure_agency(session, flow.agency, name=flow.agency.upper())
            version = record_flow_version(session, flow, flow_source(flow))
            session.flush()
            if sent_at is None and status in ("sent", "started", "completed"):
                sent_at = created_at
            if completed_at is None and status == "completed":
                completed_at = created_at
            survey = Survey(
                id="sv_" + uuid.uuid4().hex[:20],
                agency_id=agency.id,
                flow_version_id=version.id,
                flow_id=flow.id,
                channel=channel,
                contact="+12025550123" if channel in ("sms", "voice") else "a@example.com",
                language=language,
                context=context or {},
                status=status,
                created_at=created_at,
                sent_at=sent_at,
                completed_at=completed_at,
            )
            session.add(survey)
            for question_id, value in (answers or {}).items():
                outcome = "answered"
                if isinstance(value, tuple):
                    outcome, value = value
                if outcome == "answered":  # as the conversation glue records it
                    survey.first_answered_at = survey.first_answered_at or created_at
                raw = value if isinstance(value, str) else None
                session.add(
                    Answer(
                        survey=survey,
                        question_id=question_id,
                        value=value,
                        outcome=outcome,
                        raw=raw,
                    )
                )
            return survey.id

    return add


def agency_id(app: Flask, slug: str) -> int:
    with db_of(app).session() as session:
        agency: Agency = ensure_agency(session, slug, name=slug.upper())
        return agency.id
