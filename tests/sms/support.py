"""A gateway with SMS test flows, driven as an agency (API) and a respondent (signed
webhooks). Shared by the SMS, jobs and contract tests."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from config.settings import Settings
from gateway.agencies.keys import create_api_key, ensure_agency
from gateway.app import create_app
from gateway.store.db import db_of
from gateway.store.models import Message, OptOut, Survey
from gateway.store.sealing import contact_hash
from gateway.twilio.signature import DEVELOPMENT_AUTH_TOKEN

FLOWS = Path(__file__).resolve().parent / "flows"
PUBLIC_BASE_URL = "https://gateway.example.gov"
GATEWAY_NUMBER = "+12025550100"
RESPONDENT = "+12025550123"


def sms_settings(database_url: str, **overrides: Any) -> Settings:
    settings = Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        secret_key_generated=False,
        flows_dir=FLOWS,
        public_base_url=PUBLIC_BASE_URL,
        environment="test",
    )
    return settings.with_overrides(overrides)


@dataclass
class Gateway:
    """The app, an agency's API key, and a respondent's phone."""

    app: Flask
    client: FlaskClient = field(init=False)
    api_key: str = field(init=False)

    def __post_init__(self) -> None:
        self.client = self.app.test_client()
        with db_of(self.app).session() as session:
            agency = ensure_agency(
                session,
                "dmv",
                name="Department of Motor Vehicles",
                program_name="DMV Customer Service",
                help_contact="help@dmv.example.gov or 1-800-555-0100",
            )
            _row, self.api_key = create_api_key(session, agency, "tests")

    @property
    def auth_token(self) -> str:
        return self.app.extensions["settings"].twilio_auth_token or DEVELOPMENT_AUTH_TOKEN

    # -- the agency --

    def trigger(self, to: str = RESPONDENT, **fields: Any) -> dict[str, Any]:
        body = {"flow": "clinic-visit", "channel": "sms", "to": to, **fields}
        response = self.client.post(
            "/api/v1/surveys", json=body, headers={"Authorization": f"Bearer {self.api_key}"}
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        data: dict[str, Any] = response.get_json()
        return data

    def survey(self, survey_id: str) -> dict[str, Any]:
        response = self.client.get(
            f"/api/v1/surveys/{survey_id}", headers={"Authorization": f"Bearer {self.api_key}"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        data: dict[str, Any] = response.get_json()
        return data

    # -- the respondent --

    def post_signed(
        self,
        path: str,
        params: dict[str, str],
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        signature = RequestValidator(token or self.auth_token).compute_signature(
            PUBLIC_BASE_URL + path, params
        )
        headers = {**(headers or {}), "X-Twilio-Signature": signature}
        return self.client.post(path, data=params, headers=headers)

    def text(
        self,
        body: str,
        *,
        from_: str = RESPONDENT,
        sid: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        params = {
            "MessageSid": sid or "SM" + secrets.token_hex(16),
            "AccountSid": "AC" + "0" * 32,
            "From": from_,
            "To": GATEWAY_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        return self.post_signed("/twilio/sms", params, headers=headers)

    def status_callback(self, sid: str, status: str, error_code: str | None = None) -> TestResponse:
        params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
        if error_code:
            params["ErrorCode"] = error_code
        return self.post_signed("/twilio/sms/status", params)

    # -- the store --

    def rows(self, model: Any, *where: Any) -> list[Any]:
        with db_of(self.app).session() as session:
            return list(session.scalars(sa.select(model).where(*where).order_by(model.id)))

    def messages(self, *where: Any) -> list[Message]:
        return self.rows(Message, *where)

    def outbound(self, survey_id: str) -> list[Message]:
        return self.messages(Message.survey_id == survey_id, Message.direction == "outbound")

    def status_of(self, survey_id: str) -> str:
        with db_of(self.app).session() as session:
            survey = session.get(Survey, survey_id)
            assert survey is not None
            return survey.status

    def opted_out(self, number: str = RESPONDENT) -> bool:
        return bool(self.rows(OptOut, OptOut.contact_hash == contact_hash(number)))


def replies(response: TestResponse) -> list[str]:
    """The texts of a TwiML ``<Response>``."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.get_data(as_text=True))
    return [m.text or "" for m in root.iter("Message")]


def make_gateway(database_url: str, **overrides: Any) -> Gateway:
    return Gateway(create_app(sms_settings(database_url, **overrides), {"TESTING": True}))


def count_views(app: Flask, *names: str) -> Counter[str]:
    """How many times each named view runs from now on (the quick lane answers without
    running it)."""
    calls: Counter[str] = Counter()
    for name in names:
        view = app.view_functions[name]

        def counted(*args: Any, _view: Callable[..., Any] = view, _name: str = name) -> Any:
            calls[_name] += 1
            return _view(*args)

        app.view_functions[name] = counted
    return calls
