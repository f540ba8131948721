"""A gateway with a flow whose alert rule opens cases, driven over SMS and the API."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.agencies.keys import create_api_key, ensure_agency
from gateway.alerts import delivery as alert_delivery
from gateway.dashboard.auth import create_staff
from gateway.engine.types import RecordedAnswer, SessionState, StepResult
from gateway.store.case_models import Case
from gateway.store.db import db_of
from gateway.store.models import Survey
from gateway.surveys import lifecycle
from tests.sms.support import FLOWS, Gateway, make_gateway
from tests.support.results import survey_adder

CASE_FLOW = """\
id: office-followup
version: 1
title: {en: Office visit, es: Visita a la oficina}
agency: dmv
languages: [en, es]
context: [office]
questions:
  - id: satisfied
    type: rating
    prompt:
      en: How satisfied were you with your visit?
      es: ¿Qué tan satisfecho quedó con su visita?
  - id: may_contact
    type: yesno
    prompt:
      en: May we contact you about your answers?
      es: ¿Podemos contactarle sobre sus respuestas?
cases:
  consent: may_contact
  resolutions: [fixed, explained]
  teams: {front-desk: desk@dmv.example.gov}
  replies:
    - name: apology
      text:
        en: We are sorry about your visit to {office}. What went wrong?
        es: Lamentamos su visita a {office}. ¿Qué salió mal?
alerts:
  - name: unhappy
    when: satisfied <= 2
    case: {priority: high, due: 2 business days, team: front-desk}
"""
#: The same flow with a rule that opens a case for a 1 only: a 2 is a low score without one.
NARROW_FLOW = CASE_FLOW.replace("id: office-followup", "id: office-narrow").replace(
    "when: satisfied <= 2", "when: satisfied == 1"
)
#: The case flow of an office in New York: its cases count business days there.
EASTERN_FLOW = (
    CASE_FLOW.replace("id: office-followup", "id: office-eastern")
    + "window:\n  time_zone: America/New_York\n"
)
#: The case flow with a free-text question: the respondent's words, as the comments are.
COMMENT_FLOW = CASE_FLOW.replace("id: office-followup", "id: office-comments").replace(
    "cases:\n",
    """  - id: comment
    type: text
    optional: true
    prompt:
      en: Is there anything else you would like to tell us?
      es: ¿Hay algo más que quiera decirnos?
cases:
""",
)
PASSWORD = "correct horse battery"
ANALYST = "analyst@dmv.example.gov"
VIEWER = "viewer@dmv.example.gov"
OTHER = "analyst@irs.example.gov"


@pytest.fixture
def gateway(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS, flows)
    (flows / "office-followup.yaml").write_text(CASE_FLOW, encoding="utf-8")
    (flows / "office-narrow.yaml").write_text(NARROW_FLOW, encoding="utf-8")
    (flows / "office-comments.yaml").write_text(COMMENT_FLOW, encoding="utf-8")
    (flows / "office-eastern.yaml").write_text(EASTERN_FLOW, encoding="utf-8")
    gw = make_gateway(database_url, flows_dir=flows)
    with db_of(gw.app).session() as session:
        dmv = ensure_agency(session, "dmv")
        create_staff(session, dmv, ANALYST, PASSWORD, role="analyst")
        create_staff(session, dmv, VIEWER, PASSWORD, role="viewer")
        irs = ensure_agency(session, "irs", name="IRS")
        create_staff(session, irs, OTHER, PASSWORD, role="admin")
        _row, gw.other_key = create_api_key(session, irs, "tests")  # type: ignore[attr-defined]
    yield gw
    db_of(gw.app).dispose()


def answer_survey(
    gateway: Gateway,
    score: str,
    consent: str = "yes",
    *,
    comment: str | None = None,
    **trigger: Any,
) -> str:
    """A survey of the case flow, completed with ``score`` and ``consent`` (and for the
    comment flow, ``comment``) through the survey lifecycle (as a respondent's last reply
    completes it)."""
    started = datetime(2026, 10, 5, 14, tzinfo=UTC)
    add = survey_adder(gateway.app)
    survey_id = add(
        trigger.get("flow", "office-followup"),
        started,
        status="started",
        context={"office": "Downtown", **trigger.get("context", {})},
        language=trigger.get("language", "en"),
        channel=trigger.get("channel", "sms"),
    )
    values: dict[str, Any] = {"satisfied": int(score), "may_contact": consent}
    if comment is not None:
        values["comment"] = comment
    result = StepResult(
        state=SessionState(
            channel=trigger.get("channel", "sms"),
            language=trigger.get("language", "en"),
            status="completed",
        ),
        answers=tuple(RecordedAnswer(q, str(v), v, "answered") for q, v in values.items()),
    )
    with gateway.app.app_context(), db_of(gateway.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        lifecycle.apply_step(session, survey, result, started + timedelta(minutes=3))
    alert_delivery.wait_for_background(gateway.app)
    return survey_id


def cases_of(gateway: Gateway, survey_id: str) -> list[Case]:
    with db_of(gateway.app).session() as session:
        return list(session.scalars(sa.select(Case).where(Case.survey_id == survey_id)))


def api(gateway: Gateway, key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key or gateway.api_key}"}
