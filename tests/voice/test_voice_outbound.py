"""Survey calls the gateway places: the Calls API request, machines, busy lines, retries."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient

from channels.voice import SimulatedCalls
from config.settings import Settings
from gateway.agencies.keys import ensure_agency
from gateway.app import create_app, flows_of
from gateway.sending.sweeper import sweep
from gateway.services.providers import providers_of
from gateway.services.queue import enqueue_start
from gateway.store.db import db_of
from gateway.store.models import Survey, utcnow
from gateway.surveys import creation, trigger_requests
from gateway.surveys.flow_versions import flow_source, record_flow_version
from tests.voice.call_simulator import CallSimulator, flask_transport

ACCOUNT = "AC" + "a" * 32
TOKEN = "outbound-test-token"
RESPONDENT = "+12025550143"
CALLS_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls.json"


def trigger_call(app: Flask, flow_id: str = "call-center-post-call") -> str:
    """A voice survey as the API creates it, committed, then its start job run."""
    registry = flows_of(app)
    with db_of(app).session() as session:
        flow = registry.get(flow_id)
        assert flow is not None
        agency = ensure_agency(session, flow.agency)
        request = trigger_requests.validate_trigger(
            {
                "flow": flow_id,
                "channel": "voice",
                "to": RESPONDENT,
                "context": {"agent": "Maria", "queue": "benefits"},
            },
            agency,
            registry,
            utcnow().date(),
        )
        version = record_flow_version(session, flow, flow_source(flow))
        survey_id = creation.create_survey(session, request, agency, version).id
    enqueue_start(app, survey_id, None)
    return survey_id


def survey(app: Flask, survey_id: str) -> Survey:
    with db_of(app).session() as session:
        found = session.get(Survey, survey_id)
        assert found is not None
        return found


@pytest.fixture
def twilio_app(settings: Settings) -> Flask:
    configured = replace(
        settings,
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=TOKEN,
        twilio_phone_number="+12025550100",
    )
    return create_app(configured, {"TESTING": True})


@responses.activate
def test_a_voice_trigger_places_a_call_with_the_survey_url_and_machine_detection(
    twilio_app: Flask,
) -> None:
    responses.post(CALLS_URL, json={"sid": "CA" + "b" * 32, "status": "queued"}, status=201)
    survey_id = trigger_call(twilio_app)
    sent = parse_qs(str(responses.calls[0].request.body))
    assert sent["To"] == [RESPONDENT]
    assert sent["From"] == ["+12025550100"]
    assert sent["Url"] == [f"https://gateway.example.gov/twilio/voice?survey={survey_id}"]
    assert sent["StatusCallback"] == ["https://gateway.example.gov/twilio/voice/status"]
    assert sent["MachineDetection"] == ["Enable"]
    assert "StatusCallbackEvent" not in sent  # Twilio's default: the final status only
    placed = survey(twilio_app, survey_id)
    assert (placed.status, placed.provider_ref) == ("sent", "CA" + "b" * 32)


@responses.activate
def test_a_call_twilio_refuses_for_good_fails_the_survey_with_the_reason(
    twilio_app: Flask,
) -> None:
    responses.post(
        CALLS_URL,
        json={"code": 21217, "message": "Phone number does not appear to be valid", "status": 400},
        status=400,
    )
    failed = survey(twilio_app, trigger_call(twilio_app))
    assert failed.status == "failed"
    assert failed.failure_reason == "error 21217: the 'To' number is not a valid phone number"


def placed_call(app: Flask) -> tuple[str, str]:
    survey_id = trigger_call(app)
    placer = providers_of(app).calls
    assert isinstance(placer, SimulatedCalls)
    return survey_id, placer.placed[-1].sid


def test_without_twilio_the_call_is_recorded_not_placed(app: Flask) -> None:
    survey_id, sid = placed_call(app)
    placer = providers_of(app).calls
    assert isinstance(placer, SimulatedCalls)
    assert placer.placed[0].url == f"https://gateway.example.gov/twilio/voice?survey={survey_id}"
    assert survey(app, survey_id).status == "sent"


def test_an_answered_survey_call_runs_the_survey(app: Flask, phone: CallSimulator) -> None:
    survey_id, sid = placed_call(app)
    call = phone.answer(phone.url(f"/twilio/voice?survey={survey_id}"), to=RESPONDENT, sid=sid)
    assert "Was your question answered today?" in call.heard[-1]
    call.press("1").press("5").record("https://api.twilio.com/Recordings/RE5", 9)
    done = survey(app, survey_id)
    assert done.status == "completed"
    assert call.ended


@pytest.mark.parametrize("answered_by", ["machine_start", "machine_end_beep", "fax"])
def test_a_machine_answering_the_call_is_hung_up_on_and_the_survey_fails(
    app: Flask, phone: CallSimulator, answered_by: str
) -> None:
    survey_id, sid = placed_call(app)
    call = phone.answer(
        phone.url(f"/twilio/voice?survey={survey_id}"),
        to=RESPONDENT,
        sid=sid,
        answered_by=answered_by,
    )
    assert call.heard == []
    assert call.ended
    failed = survey(app, survey_id)
    assert (failed.status, failed.failure_reason) == ("failed", "answering machine")


def test_a_busy_line_is_called_twice_more_an_hour_apart_then_the_survey_fails(
    app: Flask, phone: CallSimulator
) -> None:
    survey_id, sid = placed_call(app)
    placer = providers_of(app).calls
    assert isinstance(placer, SimulatedCalls)
    for attempt in (1, 2):
        phone.status_of(sid, "busy", to=RESPONDENT)
        waiting = survey(app, survey_id)
        assert waiting.status == "scheduled"
        assert waiting.send_at is not None
        assert timedelta(minutes=59) < waiting.send_at - utcnow() <= timedelta(hours=1)
        sweep(app, now=waiting.send_at + timedelta(seconds=1))
        assert len(placer.placed) == attempt + 1
        sid = placer.placed[-1].sid
    phone.status_of(sid, "busy", to=RESPONDENT)
    failed = survey(app, survey_id)
    assert failed.status == "failed"
    assert failed.failure_reason == "the line was busy (3 calls)"


def test_an_unanswered_call_is_retried(app: Flask, phone: CallSimulator) -> None:
    survey_id, sid = placed_call(app)
    phone.status_of(sid, "no-answer", to=RESPONDENT)
    assert survey(app, survey_id).status == "scheduled"


def test_a_status_callback_with_a_bad_signature_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    survey_id, sid = placed_call(app)
    response = client.post(
        "/twilio/voice/status",
        data={"CallSid": sid, "CallStatus": "busy"},
        headers={"X-Twilio-Signature": "d3Jvbmc="},
    )
    assert response.status_code == 403
    assert survey(app, survey_id).status == "sent"


def test_twilio_configured_webhooks_are_checked_with_the_account_token(
    twilio_app: Flask,
) -> None:
    phone = CallSimulator(
        flask_transport(twilio_app.test_client()),
        auth_token=TOKEN,
        base_url="https://gateway.example.gov",
    )
    call = phone.dial("/twilio/voice?flow=call-center-post-call&agent=Ana&queue=tax&language=en")
    assert "Was your question answered today?" in call.heard[-1]
