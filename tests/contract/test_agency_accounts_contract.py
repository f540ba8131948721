"""Each agency's texts and calls, sent through its own Twilio account from its own number
or Messaging Service, checked against Twilio's published API description by the mock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.agencies import profiles, senders
from gateway.agencies.keys import create_api_key, ensure_agency
from gateway.services.providers import TwilioRoute, providers_of
from gateway.store.db import db_of
from tests.sms.support import FLOWS, Gateway, make_gateway

pytestmark = pytest.mark.contract

DEPLOYMENT_ACCOUNT = "AC" + "7" * 32
#: Each agency: its sender (a number, or a Messaging Service), account and token.
AGENCIES = {
    "dmv": ("+12025550111", "AC" + "1" * 32, "1" * 32),
    "irs": ("MG" + "2" * 32, "AC" + "2" * 32, "2" * 32),
}


@pytest.fixture
def gateway_on_mock(database_url: str, twilio_mock_url: str) -> Iterator[Gateway]:
    gw = make_gateway(
        database_url,
        flows_dir=Path(FLOWS),
        twilio_account_sid=DEPLOYMENT_ACCOUNT,
        twilio_auth_token="f" * 32,
        twilio_phone_number="+12025550100",
        twilio_api_base_url=twilio_mock_url,
    )
    yield gw
    db_of(gw.app).dispose()


@pytest.mark.parametrize("slug", sorted(AGENCIES))
def test_an_agencys_opening_text_through_its_own_account_meets_the_contract(
    gateway_on_mock: Gateway, slug: str
) -> None:
    sender, account, token = AGENCIES[slug]
    with db_of(gateway_on_mock.app).session() as session:
        # The test flows are dmv's: the agency under test takes them over for the test.
        agency = ensure_agency(session, "dmv")
        senders.add_sender(session, agency, "sms", sender)
        profiles.set_twilio_account(session, agency, account, token)
        _, gateway_on_mock.api_key = create_api_key(session, agency, slug)
    survey_id = gateway_on_mock.trigger()["id"]
    (opening,) = gateway_on_mock.outbound(survey_id)
    assert opening.provider_sid is not None and opening.error_code is None
    assert opening.from_addr == sender
    assert gateway_on_mock.status_of(survey_id) == "sent"


def test_a_call_through_an_agencys_own_account_meets_the_contract(
    gateway_on_mock: Gateway,
) -> None:
    number, account, token = AGENCIES["dmv"]
    placer = providers_of(gateway_on_mock.app).calls_via(TwilioRoute(account, token, number))
    placed = placer.place(
        "+12025550143",
        url="https://gateway.example.gov/twilio/voice?survey=sv_x",
        status_callback="https://gateway.example.gov/twilio/voice/status",
    )
    assert placed.sid.startswith("CA")
