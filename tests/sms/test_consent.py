"""`consent: required`: an SMS survey asks for consent first, asks nothing more until
YES, and records the consent (wording and time) on the survey."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.store.db import db_of
from gateway.store.models import Survey, utcnow
from gateway.surveys.consent import gives_consent
from gateway.surveys.lifecycle import expire
from tests.sms.support import FLOWS, Gateway, make_gateway, replies

CONSENT_FLOW = """\
id: consent-poll
version: 1
title: DMV visit
agency: dmv
consent: required
pra:
  omb_control_number: "1234-5678"
  expiration_date: 2099-06-30
  burden_minutes: 3
questions:
  - id: easy
    type: yesno
    prompt: Was it easy to find what you needed?
"""
ASK = (
    "DMV visit: we would like your feedback. Reply YES to take a 3-minute survey. "
    "Msg & data rates may apply. Reply STOP to opt out."
)


@pytest.fixture
def gateway(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS, flows)
    (flows / "consent-poll.yaml").write_text(CONSENT_FLOW, encoding="utf-8")
    gw = make_gateway(database_url, flows_dir=flows)
    yield gw
    db_of(gw.app).dispose()


def survey_row(gateway: Gateway, survey_id: str) -> Survey:
    (survey,) = gateway.rows(Survey, Survey.id == survey_id)
    return survey


def test_the_first_text_asks_for_consent_and_nothing_else(gateway: Gateway) -> None:
    survey_id = gateway.trigger(flow="consent-poll")["id"]
    assert [m.body for m in gateway.outbound(survey_id)] == [ASK]


def test_nothing_more_is_asked_until_yes(gateway: Gateway) -> None:
    survey_id = gateway.trigger(flow="consent-poll")["id"]
    assert replies(gateway.text("what is this?")) == []
    assert replies(gateway.text("no")) == []
    assert [m.body for m in gateway.outbound(survey_id)] == [ASK]
    assert survey_row(gateway, survey_id).consent_given_at is None


def test_yes_records_the_consent_and_asks_the_first_question(gateway: Gateway) -> None:
    survey_id = gateway.trigger(flow="consent-poll")["id"]
    (question,) = replies(gateway.text("Yes"))
    assert "Was it easy to find what you needed? Reply YES or NO." in question
    survey = survey_row(gateway, survey_id)
    assert survey.consent_text == ASK
    assert survey.consent_asked_at is not None and survey.consent_given_at is not None
    assert survey.consent_given_at >= survey.consent_asked_at
    assert gateway.survey(survey_id)["answers"] == {}


def test_after_consent_the_answers_are_recorded(gateway: Gateway) -> None:
    survey_id = gateway.trigger(flow="consent-poll")["id"]
    gateway.text("yes")
    gateway.text("yes")
    assert gateway.survey(survey_id)["answers"] == {"easy": "yes"}
    assert gateway.status_of(survey_id) == "completed"


def test_stop_instead_of_consent_opts_out(gateway: Gateway) -> None:
    survey_id = gateway.trigger(flow="consent-poll")["id"]
    gateway.text("STOP")
    assert gateway.status_of(survey_id) == "opted_out"


def test_a_flow_without_consent_starts_with_its_first_question(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    assert survey_row(gateway, survey_id).consent_asked_at is None


@pytest.mark.parametrize(("reply", "language"), [("YES", "en"), ("y", "en"), ("Yes please", "en"),
                                                 ("Sí", "es"), ("si", "es")])  # fmt: skip
def test_a_yes_in_the_surveys_language_is_consent(reply: str, language: str) -> None:
    assert gives_consent(reply, language)


@pytest.mark.parametrize("reply", ["no", "what?", "5", "maybe later"])
def test_anything_but_yes_is_not_consent(reply: str) -> None:
    assert not gives_consent(reply, "en")


def test_a_survey_never_consented_to_expires_as_usual(gateway: Gateway) -> None:
    survey_id = gateway.trigger(flow="consent-poll")["id"]
    with db_of(gateway.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        later = (survey.consent_asked_at or utcnow()) + timedelta(days=30)
        expire(session, survey, now=later, max_reprompts=2)
    assert gateway.status_of(survey_id) == "expired"
    assert gateway.survey(survey_id)["answers"] == {}
