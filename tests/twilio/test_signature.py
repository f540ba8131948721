"""Which token signs webhooks, and which URL is signed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from gateway.store.db import db_of
from gateway.store.models import Message
from gateway.store.sealing import new_key
from gateway.twilio.signature import owners_of, signature_is_valid
from tests.sms.support import PUBLIC_BASE_URL, RESPONDENT, Gateway, make_gateway, replies

PARAMS = {"MessageSid": "SM" + "4" * 32, "From": RESPONDENT, "To": "+12025550100", "Body": "hi"}


@pytest.fixture
def production(database_url: str) -> Iterator[Gateway]:
    gw = make_gateway(
        database_url,
        environment="production",
        contact_encryption_keys=f"k1:{new_key()}",
        contact_hash_key=new_key(),
    )
    yield gw
    db_of(gw.app).dispose()


def test_production_without_an_auth_token_refuses_even_development_signatures(
    production: Gateway,
) -> None:
    response = production.post_signed("/twilio/sms", PARAMS)
    assert response.status_code == 403
    assert production.messages(Message.direction == "inbound") == []


def test_the_configured_auth_token_signs_and_the_development_token_does_not(
    database_url: str,
) -> None:
    gw = make_gateway(database_url, twilio_auth_token="real-token", twilio_account_sid="AC1")
    try:
        assert gw.post_signed("/twilio/sms", PARAMS, token="real-token").status_code == 200
        dev = gw.post_signed("/twilio/sms", PARAMS, token="gateway-development-auth-token")
        assert dev.status_code == 403
    finally:
        db_of(gw.app).dispose()


def test_the_signature_covers_the_public_url_and_its_query(gateway: Gateway) -> None:
    url = PUBLIC_BASE_URL + "/twilio/sms?source=poster"
    signature = RequestValidator(gateway.auth_token).compute_signature(url, PARAMS)
    ok = gateway.client.post(
        "/twilio/sms?source=poster", data=PARAMS, headers={"X-Twilio-Signature": signature}
    )
    assert replies(ok)
    internal = RequestValidator(gateway.auth_token).compute_signature(
        "http://localhost/twilio/sms", PARAMS
    )
    refused = gateway.client.post(
        "/twilio/sms", data=PARAMS, headers={"X-Twilio-Signature": internal}
    )
    assert refused.status_code == 403


def _checked_by_gateway(gateway: Gateway, path: str, data: object, signature: str) -> bool:
    settings = gateway.app.extensions["settings"]
    with gateway.app.test_request_context(
        path, method="POST", data=data, headers={"X-Twilio-Signature": signature}
    ):
        return signature_is_valid(settings, request, owners_of(gateway.app).get())


def test_the_library_signature_of_repeated_and_non_ascii_parameters_is_accepted(
    gateway: Gateway,
) -> None:
    data = MultiDict([("Body", "Très bien 👍"), ("MediaUrl", "b"), ("MediaUrl", "a")])
    data.add("From", RESPONDENT)
    url = PUBLIC_BASE_URL + "/twilio/sms?source=poster"
    signature = RequestValidator(gateway.auth_token).compute_signature(url, data)
    assert _checked_by_gateway(gateway, "/twilio/sms?source=poster", data, signature)


def test_the_library_signature_of_the_url_with_its_default_port_is_accepted(
    gateway: Gateway,
) -> None:
    with_port = PUBLIC_BASE_URL.replace("example.gov", "example.gov:443") + "/twilio/sms"
    signature = RequestValidator(gateway.auth_token).compute_signature(with_port, PARAMS)
    assert with_port.startswith("https://")
    assert _checked_by_gateway(gateway, "/twilio/sms", PARAMS, signature)


def test_a_signature_of_other_parameter_values_is_refused(gateway: Gateway) -> None:
    signature = RequestValidator(gateway.auth_token).compute_signature(
        PUBLIC_BASE_URL + "/twilio/sms", {**PARAMS, "Body": "hi!"}
    )
    assert not _checked_by_gateway(gateway, "/twilio/sms", PARAMS, signature)
