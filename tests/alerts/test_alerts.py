"""Service recovery: alert rules and subscriptions, signed webhooks, emails and retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import responses
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from channels.email import SimulatedEmail
from gateway import jobs
from gateway.alerts import delivery as alert_delivery
from gateway.alerts.rules import DISPATCH_KEY, sign, verify
from gateway.engine.types import RecordedAnswer, SessionState, StepResult
from gateway.services.providers import providers_of
from gateway.store.db import db_of
from gateway.store.models import Survey
from gateway.store.results_models import Delivery
from gateway.surveys import lifecycle
from tests.conftest import bearer
from tests.support.results import AddSurvey

HOOK = "https://hooks.dmv.example.gov/recovery"
SUBSCRIBER = "https://crm.dmv.example.gov/events"


def complete(app: Flask, add_survey: AddSurvey, answers: dict[str, object]) -> str:
    """Start a survey, then complete it through the conversation glue with ``answers``."""
    survey_id = add_survey(
        "visit-v2", datetime(2026, 10, 5, tzinfo=UTC), status="started", context={"office": "Main"}
    )
    result = StepResult(
        state=SessionState(channel="sms", language="en", status="completed"),
        answers=tuple(RecordedAnswer(q, str(v), v, "answered") for q, v in answers.items()),
    )
    with app.app_context(), db_of(app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        lifecycle.apply_step(session, survey, result, datetime(2026, 10, 5, 1, tzinfo=UTC))
    alert_delivery.wait_for_background(app)
    return survey_id


def deliver_in_the_test(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each delivery's first try at once, here, leaving retries to the test."""

    def dispatch(ids: list[int]) -> None:
        with app.app_context():
            for delivery_id in ids:
                jobs.deliver_job(str(delivery_id))

    monkeypatch.setitem(app.extensions, DISPATCH_KEY, dispatch)


def subscribe(client: FlaskClient, key: str, events: list[str] | None = None) -> dict[str, str]:
    body: dict[str, object] = {"url": SUBSCRIBER}
    if events is not None:
        body["events"] = events
    response = client.post("/api/v1/webhooks", json=body, headers=bearer(key))
    assert response.status_code == 201, response.json
    data: dict[str, str] = response.json
    return data


@responses.activate
def test_a_matching_alert_posts_a_webhook_whose_signature_verifies_independently(
    app: Flask, client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    responses.post(HOOK, status=204)
    secret = client.post("/api/v1/webhooks/alert-secret", headers=bearer(dmv_key)).json["secret"]
    survey_id = complete(app, add_survey, {"trust": "no", "comment": "Slow"})
    (call,) = responses.calls
    body = call.request.body
    assert isinstance(body, bytes)
    stamp = call.request.headers["X-Gateway-Timestamp"]
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert call.request.headers["X-Gateway-Signature"] == "sha256=" + expected
    assert abs(time.time() - int(stamp)) < 60
    payload = json.loads(body)
    assert payload["event"] == "alert" and payload["rule"] == "distrust"
    assert payload["survey_id"] == survey_id and payload["flow"] == "visit-v2"
    assert payload["answers"] == {"trust": "no", "comment": "Slow"}
    assert payload["context"] == {"office": "Main"}
    assert payload["completed_at"] == "2026-10-05T01:00:00Z"


@responses.activate
def test_the_alert_also_emails_the_office_address(
    app: Flask, dmv_key: str, add_survey: AddSurvey
) -> None:
    responses.post(HOOK, status=200)
    complete(app, add_survey, {"trust": "no"})
    sender = providers_of(app).email
    assert isinstance(sender, SimulatedEmail)
    (record,) = sender.sent
    assert record.email.to == "office@dmv.example.gov"
    assert "distrust" in record.email.subject


@responses.activate
def test_answers_that_do_not_match_the_rule_send_no_alert(
    app: Flask, dmv_key: str, add_survey: AddSurvey
) -> None:
    complete(app, add_survey, {"trust": "yes"})
    assert len(responses.calls) == 0


@responses.activate
def test_a_subscription_receives_every_completed_survey_signed_with_its_secret(
    app: Flask, client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    responses.post(SUBSCRIBER, status=200)
    secret = subscribe(client, dmv_key)["secret"]
    survey_id = complete(app, add_survey, {"trust": "yes"})
    (call,) = responses.calls
    body = call.request.body
    assert isinstance(body, bytes)
    stamp = call.request.headers["X-Gateway-Timestamp"]
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert call.request.headers["X-Gateway-Signature"] == f"sha256={mac}"
    assert json.loads(body)["event"] == "survey.completed"
    assert json.loads(body)["survey_id"] == survey_id


@responses.activate
def test_a_failed_delivery_is_retried_and_each_attempt_is_listed(
    app: Flask,
    client: FlaskClient,
    dmv_key: str,
    add_survey: AddSurvey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deliver_in_the_test(app, monkeypatch)
    responses.post(SUBSCRIBER, status=503)
    subscribe(client, dmv_key)
    complete(app, add_survey, {"trust": "yes"})
    responses.replace(responses.POST, SUBSCRIBER, status=200)
    with app.app_context(), db_of(app).session() as session:
        delivery = session.scalars(sa.select(Delivery)).one()
        delivery_id = delivery.id
        assert delivery.next_attempt_at is not None
        # The retry is due after the first interval; rq runs it then, not before.
        tried = delivery.attempt_log[-1].created_at
        assert delivery.next_attempt_at - tried == timedelta(seconds=10)
        delivery.next_attempt_at = tried  # the ten seconds have passed
    with app.app_context():
        assert jobs.deliver_job(str(delivery_id)) is None
    listing = client.get("/api/v1/webhooks/deliveries", headers=bearer(dmv_key)).json["data"]
    (delivery,) = listing
    assert delivery["status"] == "delivered"
    assert [(a["attempt"], a["status_code"]) for a in delivery["attempts"]] == [(1, 503), (2, 200)]
    assert delivery["attempts"][0]["error"] == "the receiver answered HTTP 503"


@responses.activate
def test_a_refused_delivery_is_not_retried(
    app: Flask,
    client: FlaskClient,
    dmv_key: str,
    add_survey: AddSurvey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deliver_in_the_test(app, monkeypatch)
    responses.post(SUBSCRIBER, status=410)
    subscribe(client, dmv_key)
    complete(app, add_survey, {"trust": "yes"})
    (delivery,) = client.get("/api/v1/webhooks/deliveries", headers=bearer(dmv_key)).json["data"]
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 1


def test_the_subscription_secret_is_shown_only_when_created(
    client: FlaskClient, dmv_key: str
) -> None:
    created = subscribe(client, dmv_key, ["survey.completed", "alert"])
    assert created["secret"].startswith("whsec_")
    listed = client.get("/api/v1/webhooks", headers=bearer(dmv_key)).json["data"]
    assert listed == [
        {
            "id": created["id"],
            "url": SUBSCRIBER,
            "events": ["survey.completed", "alert"],
            "created_at": created["created_at"],
        }
    ]


def test_another_agency_cannot_delete_a_subscription(
    client: FlaskClient, dmv_key: str, irs_key: str
) -> None:
    created = subscribe(client, dmv_key)
    url = f"/api/v1/webhooks/{created['id']}"
    assert client.delete(url, headers=bearer(irs_key)).status_code == 404
    assert client.delete(url, headers=bearer(dmv_key)).status_code == 204
    assert client.get("/api/v1/webhooks", headers=bearer(dmv_key)).json["data"] == []


@responses.activate
def test_deliveries_are_listed_only_to_their_agency(
    app: Flask, client: FlaskClient, dmv_key: str, irs_key: str, add_survey: AddSurvey
) -> None:
    responses.post(HOOK, status=200)
    complete(app, add_survey, {"trust": "no"})
    assert len(client.get("/api/v1/webhooks/deliveries", headers=bearer(dmv_key)).json["data"]) == 2
    assert client.get("/api/v1/webhooks/deliveries", headers=bearer(irs_key)).json["data"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://crm.example.gov/x"}, "url"),
        ({}, "url"),
        ({"url": SUBSCRIBER, "events": ["survey.started"]}, "events"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_field(
    client: FlaskClient, dmv_key: str, body: dict[str, object], field: str
) -> None:
    response = client.post("/api/v1/webhooks", json=body, headers=bearer(dmv_key))
    assert response.status_code == 422
    assert response.json["error"]["details"] == {"field": field}


def test_a_receiver_refuses_a_signature_older_than_five_minutes() -> None:
    body = b'{"event":"alert"}'
    then = int(time.time()) - 301
    signature = sign("whsec_x", str(then), body)
    assert not verify("whsec_x", str(then), body, signature, time.time())
    assert verify("whsec_x", str(then + 2), body, sign("whsec_x", str(then + 2), body), time.time())
