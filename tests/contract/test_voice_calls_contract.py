"""The gateway's Calls API request, checked against Twilio's published OpenAPI description."""

from __future__ import annotations

import pytest

from channels.base import DeliveryError
from channels.twilio.voice import TwilioCalls

ACCOUNT = "AC" + "0" * 32


@pytest.mark.contract
def test_a_survey_call_request_is_valid_for_twilio_s_calls_api(twilio_mock_url: str) -> None:
    calls = TwilioCalls(ACCOUNT, "token", from_number="+12025550100", api_base_url=twilio_mock_url)
    placed = calls.place(
        "+12025550143",
        url="https://gateway.example.gov/twilio/voice?survey=sv_x",
        status_callback="https://gateway.example.gov/twilio/voice/status",
    )
    assert placed.sid.startswith("CA")


@pytest.mark.contract
def test_a_call_request_without_a_number_is_refused_by_the_mock(twilio_mock_url: str) -> None:
    calls = TwilioCalls(ACCOUNT, "token", from_number="+12025550100", api_base_url=twilio_mock_url)
    with pytest.raises(DeliveryError):
        calls.place("", url="", status_callback="")
