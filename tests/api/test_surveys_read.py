"""GET /api/v1/surveys/<id>: a survey as its agency sees it, and to nobody else."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.store.db import db_of
from gateway.store.models import Answer, Message, Survey, utcnow
from tests.conftest import bearer

Trigger = Callable[..., TestResponse]


def started(trigger: Trigger) -> str:
    response = trigger()
    assert response.json is not None
    survey_id: str = response.json["id"]
    return survey_id


def test_a_survey_reads_back_with_answers_and_messages(
    app: Flask, client: FlaskClient, trigger: Trigger, dmv_key: str
) -> None:
    survey_id = started(trigger)
    with db_of(app).session() as session:
        survey = session.get_one(Survey, survey_id)
        survey.status = "completed"
        survey.completed_at = utcnow()
        session.add(
            Message(
                survey_id=survey_id,
                direction="outbound",
                channel="sms",
                body="How satisfied were you with the Springfield office?",
                status="delivered",
            )
        )
        session.add(
            Message(
                survey_id=survey_id, direction="inbound", channel="sms", body="5", status="received"
            )
        )
        session.add(
            Answer(
                survey_id=survey_id, question_id="satisfied", raw="5", value=5, outcome="answered"
            )
        )
        session.add(
            Answer(
                survey_id=survey_id, question_id="comment", raw=None, value=None, outcome="skipped"
            )
        )

    response = client.get(f"/api/v1/surveys/{survey_id}", headers=bearer(dmv_key))
    assert response.status_code == 200
    body = response.json
    assert body is not None
    assert {
        k: body[k] for k in ("id", "flow", "flow_version", "channel", "language", "status", "to")
    } == {
        "id": survey_id,
        "flow": "office-visit",
        "flow_version": 1,
        "channel": "sms",
        "language": "en",
        "status": "completed",
        "to": "+12025550123",
    }
    assert body["context"] == {"office": "Springfield"}
    assert body["answers"] == {"satisfied": 5, "comment": None}
    assert body["completed_at"].endswith("Z")
    assert [(m["direction"], m["body"], m["status"]) for m in body["messages"]] == [
        ("outbound", "How satisfied were you with the Springfield office?", "delivered"),
        ("inbound", "5", "received"),
    ]


def test_another_agencys_survey_is_not_found(
    client: FlaskClient, trigger: Trigger, irs_key: str
) -> None:
    survey_id = started(trigger)
    response = client.get(f"/api/v1/surveys/{survey_id}", headers=bearer(irs_key))
    assert response.status_code == 404
    assert response.json is not None
    assert response.json["error"]["code"] == "survey_not_found"


def test_an_unknown_survey_is_not_found(client: FlaskClient, dmv_key: str) -> None:
    assert client.get("/api/v1/surveys/sv_nothing", headers=bearer(dmv_key)).status_code == 404
