"""A reply to a consenting respondent: from the flow's template in their language, over
the survey's channel, under STOP and quiet hours; their answer lands in the case."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from channels.email import SimulatedEmail
from channels.sms import SimulatedSms
from gateway.agencies import profiles
from gateway.cases import replies
from gateway.services.providers import providers_of
from gateway.store.case_models import Case
from gateway.store.db import db_of
from gateway.store.models import Message, Survey
from tests.cases.conftest import answer_survey, api
from tests.sms.support import RESPONDENT, Gateway
from tests.sms.support import replies as twiml

APOLOGY_EN = "We are sorry about your visit to Downtown. What went wrong?"
APOLOGY_ES = "Lamentamos su visita a Downtown. ¿Qué salió mal?"


def _case(gateway: Gateway, survey_id: str) -> dict[str, Any]:
    listed = gateway.client.get("/api/v1/cases?view=all", headers=api(gateway)).get_json()
    case_id = next(c["id"] for c in listed["data"] if c["survey_id"] == survey_id)
    data: dict[str, Any] = gateway.client.get(
        f"/api/v1/cases/{case_id}", headers=api(gateway)
    ).get_json()
    return data


def _reply(gateway: Gateway, case_id: str, template: str = "apology") -> Any:
    return gateway.client.post(
        f"/api/v1/cases/{case_id}/replies", json={"template": template}, headers=api(gateway)
    )


def _texts(gateway: Gateway) -> list[tuple[str, str]]:
    sms = providers_of(gateway.app).sms
    assert isinstance(sms, SimulatedSms)
    return [(m.to, m.body) for m in sms.sent]


def test_the_reply_reaches_the_phone_and_the_answer_lands_in_the_case(gateway: Gateway) -> None:
    survey_id = answer_survey(gateway, "1", "yes")
    case = _case(gateway, survey_id)
    response = _reply(gateway, case["id"])
    assert response.status_code == 202, response.get_json()
    assert (RESPONDENT, APOLOGY_EN) in _texts(gateway)
    after = _case(gateway, survey_id)
    assert after["status"] == "waiting"
    sent = [m for m in after["messages"] if m["body"] == APOLOGY_EN]
    assert len(sent) == 1 and sent[0]["status"] == "simulated"

    answered = gateway.text("The clerk was rude")
    assert twiml(answered) == []  # no automatic text back
    final = _case(gateway, survey_id)
    assert final["history"][-2]["kind"] == "answer"
    assert final["history"][-2]["body"] == "The clerk was rude"
    assert final["status"] == "in_progress"
    assert "The clerk was rude" in [m["body"] for m in final["messages"]]
    survey = gateway.survey(survey_id)
    assert survey["answers"] == {"satisfied": 1, "may_contact": "yes"}  # unchanged


def test_a_spanish_respondent_gets_the_spanish_template(gateway: Gateway) -> None:
    survey_id = answer_survey(gateway, "2", "yes", language="es")
    _reply(gateway, _case(gateway, survey_id)["id"])
    assert (RESPONDENT, APOLOGY_ES) in _texts(gateway)


def test_no_reply_without_consent_or_with_an_unknown_template(gateway: Gateway) -> None:
    no_consent = _case(gateway, answer_survey(gateway, "1", "no"))
    refused = _reply(gateway, no_consent["id"])
    assert refused.status_code == 422
    assert "did not consent" in refused.get_json()["error"]["message"]
    consent = _case(gateway, answer_survey(gateway, "1", "yes"))
    unknown = _reply(gateway, consent["id"], "sorry")
    assert unknown.status_code == 422 and "apology" in unknown.get_json()["error"]["message"]
    assert _texts(gateway) == []


def test_a_stop_after_consent_stops_the_replies(gateway: Gateway) -> None:
    case = _case(gateway, answer_survey(gateway, "1", "yes"))
    gateway.text("STOP")
    refused = _reply(gateway, case["id"])
    assert refused.status_code == 422 and "STOP" in refused.get_json()["error"]["message"]
    assert APOLOGY_EN not in [body for _to, body in _texts(gateway)]


def test_a_stop_between_the_reply_and_its_send_drops_it(gateway: Gateway) -> None:
    case = _case(gateway, answer_survey(gateway, "1", "yes"))
    with db_of(gateway.app).session() as session:  # staff send it; the job has not run yet
        row = session.get(Case, case["id"])
        assert row is not None
        replies.prepare(session, row, "apology", "staff:analyst@dmv.example.gov", row.opened_at)
    gateway.text("STOP")
    replies.send_waiting(gateway.app, case["id"])
    assert APOLOGY_EN not in [body for _to, body in _texts(gateway)]
    after = _case(gateway, case["survey_id"])
    assert after["history"][-1]["detail"] == "not sent: the respondent opted out of texts (STOP)"
    assert after["reply_due_at"] is None


def test_quiet_hours_put_the_reply_off_to_the_morning(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = _case(gateway, answer_survey(gateway, "1", "yes"))
    night = datetime(2026, 10, 6, 6, tzinfo=UTC)  # 02:00 in Washington (the 202 area code)
    monkeypatch.setattr(replies, "utcnow", lambda: night)
    settings = dataclasses.replace(gateway.app.extensions["settings"], quiet_hours=True)
    monkeypatch.setitem(gateway.app.extensions, "settings", settings)
    _reply(gateway, case["id"])
    assert _texts(gateway) == []
    with db_of(gateway.app).session() as session:
        due = session.scalar(sa.select(Case.reply_due_at).where(Case.id == case["id"]))
    assert due == datetime(2026, 10, 6, 12, tzinfo=UTC)  # 08:00 EDT
    morning = due + timedelta(minutes=1)
    monkeypatch.setattr(replies, "utcnow", lambda: morning)
    assert replies.due_cases(gateway.app, morning) == [case["id"]]
    assert (RESPONDENT, APOLOGY_EN) in _texts(gateway)


def test_an_email_survey_is_replied_to_by_email(gateway: Gateway) -> None:
    survey_id = answer_survey(gateway, "1", "yes", channel="email")
    _reply(gateway, _case(gateway, survey_id)["id"])
    email = providers_of(gateway.app).email
    assert isinstance(email, SimulatedEmail)
    (record,) = [r for r in email.sent if r.email.text.startswith(APOLOGY_EN + "\n")]
    assert record.email.to == "a@example.com"
    with db_of(gateway.app).session() as session:
        (row,) = session.scalars(
            sa.select(Message).where(Message.survey_id == survey_id, Message.body == APOLOGY_EN)
        )
        assert (row.channel, row.status) == ("email", "simulated")


def test_a_reply_by_email_comes_from_the_agencys_own_address(gateway: Gateway) -> None:
    survey_id = answer_survey(gateway, "1", "yes", channel="email")
    with db_of(gateway.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        profiles.update_profile(
            session,
            survey.agency,
            {
                "display_name": "Demo Motor Vehicles",
                "email_from": "feedback@dmv.example.gov",
                "email_reply_to": "help@dmv.example.gov",
            },
        )
    _reply(gateway, _case(gateway, survey_id)["id"])
    email = providers_of(gateway.app).email
    assert isinstance(email, SimulatedEmail)
    (record,) = [r for r in email.sent if r.email.text.startswith(APOLOGY_EN + "\n")]
    assert (record.email.from_name, record.email.from_address, record.email.reply_to) == (
        "Demo Motor Vehicles",
        "feedback@dmv.example.gov",
        "help@dmv.example.gov",
    )


def test_a_reply_the_provider_answers_queued_is_sent_once(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    sms = providers_of(gateway.app).sms
    monkeypatch.setattr(sms, "STATUS", "queued")  # what Twilio answers a new message
    case = _case(gateway, answer_survey(gateway, "1", "yes"))
    _reply(gateway, case["id"])
    replies.send_waiting(gateway.app, case["id"])  # a second job, or the sweeper
    assert _texts(gateway).count((RESPONDENT, APOLOGY_EN)) == 1
