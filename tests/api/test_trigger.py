"""POST /api/v1/surveys: a valid trigger starts a survey; each bad input says what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.store.db import db_of
from gateway.store.models import OptOut, Survey, utcnow
from gateway.store.sealing import contact_hash
from tests.conftest import bearer

Trigger = Callable[..., TestResponse]
Enqueued = list[tuple[str, datetime | None]]


def error_of(response: TestResponse) -> dict[str, Any]:
    assert response.json is not None
    error: dict[str, Any] = response.json["error"]
    return error


def test_a_valid_trigger_queues_a_survey(trigger: Trigger, enqueued: Enqueued) -> None:
    response = trigger()
    assert response.status_code == 202
    assert response.json is not None
    assert response.json["status"] == "queued"
    assert response.json["id"].startswith("sv_")
    assert enqueued == [(response.json["id"], None)]


def test_the_survey_is_committed_before_it_is_enqueued(
    app: Flask, trigger: Trigger, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str | None] = []

    def look(app_: Flask, survey_id: str, send_at: datetime | None) -> None:
        with db_of(app).session() as session:
            survey = session.get(Survey, survey_id)
            seen.append(survey.status if survey else None)

    monkeypatch.setattr("gateway.services.queue.enqueue_start", look)
    trigger()
    assert seen == ["queued"]


def test_the_survey_records_what_was_asked(app: Flask, trigger: Trigger) -> None:
    response = trigger(language="es", to="+1 202 555 0123".replace(" ", ""))
    assert response.json is not None
    with db_of(app).session() as session:
        survey = session.get_one(Survey, response.json["id"])
        assert (survey.flow_id, survey.channel, survey.contact, survey.language) == (
            "office-visit",
            "sms",
            "+12025550123",
            "es",
        )
        assert survey.context == {"office": "Springfield"}
        assert survey.flow_version.version == 1
        assert survey.expires_at is not None


def test_a_future_send_at_schedules_the_survey(trigger: Trigger, enqueued: Enqueued) -> None:
    when = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    response = trigger(send_at=when.isoformat())
    assert response.status_code == 202
    assert response.json is not None
    assert response.json["status"] == "scheduled"
    assert enqueued == [(response.json["id"], when)]


def test_an_email_survey_takes_an_email_address(trigger: Trigger) -> None:
    response = trigger(channel="email", to="Resident@Example.org")
    assert response.status_code == 202


def test_a_voice_survey_may_call_a_landline(trigger: Trigger) -> None:
    assert trigger(channel="voice", to="+442079460958").status_code == 202


def test_an_opted_out_number_gets_no_survey_sent(
    app: Flask, trigger: Trigger, enqueued: Enqueued
) -> None:
    with db_of(app).session() as session:
        session.add(
            OptOut(contact_hash=contact_hash("+12025550123"), channel="sms", keyword="STOP")
        )
    response = trigger()
    assert response.status_code == 202
    assert response.json is not None
    assert response.json["status"] == "opted_out"
    assert enqueued == []


def test_an_unknown_flow_is_not_found(trigger: Trigger) -> None:
    response = trigger(flow="no-such-flow")
    assert response.status_code == 404
    assert error_of(response)["code"] == "flow_not_found"


def test_another_agencys_flow_is_not_found_either(trigger: Trigger) -> None:
    response = trigger(flow="tax-call", context=None)
    assert response.status_code == 404
    assert "irs" not in error_of(response)["message"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"to": "+1202555"}, "to"),
        ({"to": "2025550123"}, "to"),
        ({"to": "+442079460958"}, "to"),  # a London landline cannot take texts
        ({"channel": "email", "to": "not-an-address"}, "to"),
        ({"channel": "web"}, "channel"),
        ({"channel": "fax"}, "channel"),
        ({"language": "fr"}, "language"),
        ({"context": None}, "context.office"),
        ({"context": {"office": 7}}, "context.office"),
        ({"context": {"office": "A", "desk": "3"}}, "context.desk"),
        ({"priority": "high"}, "priority"),
        ({"send_at": "2030-01-01T09:00:00"}, "send_at"),
        ({"send_at": "next tuesday"}, "send_at"),
    ],
)
def test_an_invalid_field_is_named(trigger: Trigger, changes: dict[str, Any], field: str) -> None:
    response = trigger(**changes)
    assert response.status_code == 422
    assert error_of(response)["details"] == {"field": field}


def test_send_at_in_the_past_is_refused(trigger: Trigger) -> None:
    response = trigger(send_at=(utcnow() - timedelta(minutes=10)).isoformat())
    assert response.status_code == 422
    assert "in the past" in error_of(response)["message"]


def test_send_at_more_than_thirty_days_ahead_is_refused(trigger: Trigger) -> None:
    response = trigger(send_at=(utcnow() + timedelta(days=31)).isoformat())
    assert response.status_code == 422
    assert error_of(response)["details"] == {"field": "send_at"}


def test_a_flow_whose_pra_clearance_expired_is_refused(trigger: Trigger) -> None:
    response = trigger(flow="old-form", context=None)
    assert response.status_code == 422
    assert error_of(response)["code"] == "pra_expired"
    assert "2020-01-31" in error_of(response)["message"]


def test_a_flow_only_for_sms_refuses_voice(trigger: Trigger) -> None:
    response = trigger(flow="quick-poll", channel="voice", context=None)
    assert response.status_code == 422
    assert error_of(response)["message"] == "channel must be one of sms for flow 'quick-poll'"


def test_a_body_that_is_not_json_is_refused(client: FlaskClient, dmv_key: str) -> None:
    response = client.post(
        "/api/v1/surveys", data="{flow", content_type="application/json", headers=bearer(dmv_key)
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_a_form_body_is_an_unsupported_media_type(client: FlaskClient, dmv_key: str) -> None:
    response = client.post("/api/v1/surveys", data={"flow": "x"}, headers=bearer(dmv_key))
    assert response.status_code == 415


def test_a_json_array_is_not_a_trigger(client: FlaskClient, dmv_key: str) -> None:
    response = client.post("/api/v1/surveys", json=[1, 2], headers=bearer(dmv_key))
    assert response.status_code == 400


def test_a_flow_file_edited_since_loading_is_refused_until_reloaded(
    trigger: Trigger, flows_dir: Path
) -> None:
    path = flows_dir / "office-visit.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    response = trigger()
    assert response.status_code == 503
    assert error_of(response)["code"] == "flow_changed"


def test_a_triggered_sms_survey_sends_its_first_text(client: FlaskClient, dmv_key: str) -> None:
    body = {"flow": "quick-poll", "channel": "sms", "to": "+12025550123"}
    created = client.post("/api/v1/surveys", json=body, headers=bearer(dmv_key))
    assert created.json is not None
    shown = client.get(f"/api/v1/surveys/{created.json['id']}", headers=bearer(dmv_key)).json
    assert shown is not None
    assert shown["status"] == "sent"
    assert [m["direction"] for m in shown["messages"]][:1] == ["outbound"]
    assert "Was it easy?" in " ".join(m["body"] for m in shown["messages"])
