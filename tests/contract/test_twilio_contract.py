"""The gateway's outbound Twilio requests, checked against Twilio's published API
description by a validating mock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from channels.twilio.sms import TwilioSms
from gateway.store.db import db_of
from tests.sms.support import Gateway, make_gateway

pytestmark = pytest.mark.contract

ACCOUNT = "AC" + "7" * 32


def test_the_mock_refuses_a_message_request_that_breaks_the_contract(twilio_mock_url: str) -> None:
    response = requests.post(
        f"{twilio_mock_url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
        data={"Body": "no recipient"},
        auth=(ACCOUNT, "token"),
        timeout=10,
    )
    assert response.status_code == 422


def test_a_text_from_a_number_with_a_status_callback_meets_the_contract(
    twilio_mock_url: str,
) -> None:
    sender = TwilioSms(ACCOUNT, "token", from_number="+12025550100", api_base_url=twilio_mock_url)
    result = sender.send(
        "+12025550123",
        "I am satisfied. Reply 1 to 5.",
        status_callback="https://gw.example.gov/twilio/sms/status",
    )
    assert result.sid.startswith("SM") or result.sid.startswith("MM")


def test_a_text_through_a_messaging_service_meets_the_contract(twilio_mock_url: str) -> None:
    sender = TwilioSms(
        ACCOUNT, "token", messaging_service_sid="MG" + "8" * 32, api_base_url=twilio_mock_url
    )
    assert sender.send("+12025550123", "Hola", status_callback=None).sid


@pytest.fixture
def gateway_on_mock(database_url: str, twilio_mock_url: str) -> Iterator[Gateway]:
    gw = make_gateway(
        database_url,
        twilio_account_sid=ACCOUNT,
        twilio_auth_token="token",
        twilio_phone_number="+12025550100",
        twilio_api_base_url=twilio_mock_url,
    )
    yield gw
    db_of(gw.app).dispose()


def test_a_triggered_survey_sends_its_opening_text_through_the_contract(
    gateway_on_mock: Gateway,
) -> None:
    survey_id = gateway_on_mock.trigger()["id"]
    (opening,) = gateway_on_mock.outbound(survey_id)
    assert opening.provider_sid is not None and opening.error_code is None
    assert gateway_on_mock.status_of(survey_id) == "sent"
