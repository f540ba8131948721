"""The SMS senders against Twilio's REST API (faked at the HTTP boundary), text splitting
and keyword matching."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import requests
import responses

from channels.base import DeliveryError
from channels.sms import SimulatedSms, match_keyword, split_text
from channels.twilio.sms import TwilioSms

ACCOUNT = "AC" + "1" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
CREATED = {"sid": "SM" + "2" * 32, "status": "queued", "account_sid": ACCOUNT}


def _form(call: responses.Call) -> dict[str, str]:
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    return {k: v[0] for k, v in parse_qs(text).items()}


@responses.activate
def test_a_text_from_a_number_posts_to_from_body_and_status_callback() -> None:
    responses.post(MESSAGES_URL, json=CREATED, status=201)
    sender = TwilioSms(ACCOUNT, "token", from_number="+12025550100")
    result = sender.send("+12025550123", "Hello", status_callback="https://gw.example.gov/cb")
    assert (result.sid, result.status) == (CREATED["sid"], "queued")
    assert _form(responses.calls[0]) == {
        "To": "+12025550123",
        "From": "+12025550100",
        "Body": "Hello",
        "StatusCallback": "https://gw.example.gov/cb",
    }


@responses.activate
def test_a_text_through_a_messaging_service_names_the_service_and_no_callback() -> None:
    responses.post(MESSAGES_URL, json=CREATED, status=201)
    sender = TwilioSms(ACCOUNT, "token", messaging_service_sid="MG" + "3" * 32)
    sender.send("+12025550123", "Hello", status_callback=None)
    assert _form(responses.calls[0]) == {
        "To": "+12025550123",
        "MessagingServiceSid": "MG" + "3" * 32,
        "Body": "Hello",
    }


@responses.activate
def test_twilio_api_base_url_sends_requests_to_that_origin() -> None:
    responses.post(
        f"http://127.0.0.1:4010/2010-04-01/Accounts/{ACCOUNT}/Messages.json", json=CREATED
    )
    sender = TwilioSms(
        ACCOUNT, "token", from_number="+12025550100", api_base_url="http://127.0.0.1:4010"
    )
    assert sender.send("+12025550123", "Hi", status_callback=None).sid == CREATED["sid"]


@pytest.mark.parametrize(
    ("code", "retryable", "opted_out"),
    [(21610, False, True), (21211, False, False), (30006, False, False), (63018, True, False)],
)
@responses.activate
def test_provider_error_codes_map_to_retryable_or_permanent(
    code: int, retryable: bool, opted_out: bool
) -> None:
    responses.post(MESSAGES_URL, json={"code": code, "message": "no", "status": 400}, status=400)
    sender = TwilioSms(ACCOUNT, "token", from_number="+12025550100")
    with pytest.raises(DeliveryError) as caught:
        sender.send("+12025550123", "Hi", status_callback=None)
    assert (caught.value.code, caught.value.retryable) == (str(code), retryable)
    assert caught.value.opted_out is opted_out


@responses.activate
def test_a_server_error_or_a_timeout_is_retryable() -> None:
    responses.post(MESSAGES_URL, json={"message": "oops", "status": 503}, status=503)
    responses.post(MESSAGES_URL, body=requests.ConnectTimeout("slow"))
    sender = TwilioSms(ACCOUNT, "token", from_number="+12025550100")
    for _ in range(2):
        with pytest.raises(DeliveryError) as caught:
            sender.send("+12025550123", "Hi", status_callback=None)
        assert caught.value.retryable


def test_a_sender_needs_a_number_or_a_messaging_service() -> None:
    with pytest.raises(ValueError, match="TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID"):
        TwilioSms(ACCOUNT, "token")


def test_simulated_delivery_records_and_returns_a_message_sid() -> None:
    sender = SimulatedSms()
    result = sender.send("+12025550123", "Hi", status_callback=None)
    assert result.sid.startswith("SM") and result.status == "simulated"
    assert [(m.to, m.body) for m in sender.sent] == [("+12025550123", "Hi")]


def test_long_text_splits_between_paragraphs_within_the_limit() -> None:
    text = "\n\n".join(["a" * 900, "b" * 900, "c" * 100])
    assert split_text(text) == ["a" * 900, "b" * 900 + "\n\n" + "c" * 100]


def test_a_single_long_paragraph_splits_between_words() -> None:
    parts = split_text(" ".join(["word"] * 500), limit=100)
    assert all(len(p) <= 100 for p in parts)
    assert " ".join(parts) == " ".join(["word"] * 500)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("Stop.", "stop"),
        ("opt-out", "stop"),
        ("ALTO", "stop"),
        ("unstop", "start"),
        ("Sí", "start_if_opted_out"),
        ("info?", "help"),
        ("stop please", "stop"),  # a plain-words request (FCC 2024 consent rule)
        ("the line did not stop", None),
        ("5", None),
    ],
)
def test_keywords_match_the_whole_message_in_any_case(body: str, kind: str | None) -> None:
    matched = match_keyword(body)
    assert (matched.kind if matched else None) == kind
