"""Request logs: one JSON line per request, under a request id, with no personal data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from config.logging import redact
from gateway.store.db import db_of
from gateway.twilio.signature import DEVELOPMENT_AUTH_TOKEN
from tests.sms.support import Gateway, make_gateway
from tests.voice.call_simulator import CallSimulator, flask_transport
from tests.voice.test_voice_flows import answer_everything, dial_url

CALLER = "+12025550188"
FREE_TEXT = "The clerk named Rosalind was wonderful"


def read_logs(capsys: pytest.CaptureFixture[str]) -> tuple[str, list[dict[str, Any]]]:
    err = capsys.readouterr().err
    return err, [json.loads(line) for line in err.splitlines() if line.strip()]


def requests_in(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["logger"] == "gateway.request"]


def test_each_request_is_one_json_line_with_method_path_status_duration_and_id(
    client: FlaskClient, json_logs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    response = client.get("/healthz?to=%2B12025550123")
    _err, entries = read_logs(capsys)
    (line,) = requests_in(entries)
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["request_id"] == response.headers["X-Request-Id"]


def test_a_request_id_sent_by_the_caller_is_kept_and_returned(
    client: FlaskClient, json_logs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    response = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.42"})
    _err, entries = read_logs(capsys)
    assert response.headers["X-Request-Id"] == "lb-7f3a.42"
    assert requests_in(entries)[0]["request_id"] == "lb-7f3a.42"


def test_a_request_id_that_is_not_a_plain_token_is_replaced(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-Id": '"}, {"forged": "entry'})
    assert response.headers["X-Request-Id"] != '"}, {"forged": "entry'
    assert len(response.headers["X-Request-Id"]) == 32


def test_an_sms_round_trip_logs_neither_the_number_nor_the_answers(
    database_url: str,
    json_logs: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    gateway: Gateway = make_gateway(database_url)
    try:
        survey_id = gateway.trigger(to=CALLER)["id"]
        for body in ("4", "yes", FREE_TEXT):
            gateway.text(body, from_=CALLER)
        assert gateway.survey(survey_id)["status"] == "completed"
    finally:
        db_of(gateway.app).dispose()
    err, entries = read_logs(capsys)
    assert len(requests_in(entries)) == 5  # the trigger, three replies, the read-back
    for needle in (CALLER, CALLER[2:], "2025550188", FREE_TEXT, "Rosalind"):
        assert needle not in err


def test_a_voice_call_logs_neither_the_caller_nor_the_digits_pressed(
    client: FlaskClient, json_logs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    phone = CallSimulator(
        flask_transport(client),
        auth_token=DEVELOPMENT_AUTH_TOKEN,
        base_url="https://gateway.example.gov",
    )
    call = answer_everything(phone.dial(dial_url("office-visit", "en"), caller=CALLER), key="7")
    assert call.ended
    err, entries = read_logs(capsys)
    assert requests_in(entries)
    assert CALLER not in err and "2025550188" not in err
    assert all("Digits" not in e["path"] for e in requests_in(entries))


def test_contact_details_in_a_provider_error_are_masked() -> None:
    message = "The 'To' number +1 (202) 555-0123 is not valid; bounce from ana@example.gov"
    assert redact(message) == "The 'To' number [redacted] is not valid; bounce from [redacted]"
