"""A real SMTP server on 127.0.0.1 (aiosmtpd in a thread) and a gateway that sends to it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask
from flask.testing import FlaskClient

from config.settings import Settings
from gateway.agencies.keys import create_api_key, ensure_agency
from gateway.app import create_app
from gateway.store.db import db_of
from tests.conftest import SHIPPED_FLOWS

RESPONDENT = "jane.doe@example.gov"
SENDER = "feedback@agency.example.gov"


@dataclass
class Recorder:
    """Keeps every message it accepts; answers RCPT for an address in ``refuse`` with the
    reply given there (e.g. "451 4.3.0 try later")."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    recorder: Recorder
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(recorder, port)
    finally:
        controller.stop()


def email_settings(tmp_path: Path, smtp_url: str | None) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'gateway.sqlite3'}",
        secret_key="test-secret-key",
        secret_key_generated=False,
        flows_dir=SHIPPED_FLOWS,
        public_base_url="https://gateway.example.gov",
        environment="test",
        smtp_url=smtp_url,
        email_from=SENDER,
    )


@dataclass
class Agency:
    app: Flask
    client: FlaskClient
    api_key: str

    def trigger(self, to: str = RESPONDENT, **fields: Any) -> dict[str, Any]:
        body = {
            "flow": "office-visit",
            "channel": "email",
            "to": to,
            "context": {"office": "Downtown"},
            **fields,
        }
        response = self.client.post(
            "/api/v1/surveys", json=body, headers={"Authorization": f"Bearer {self.api_key}"}
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        data: dict[str, Any] = response.get_json()
        return data


def agency_for(app: Flask) -> Agency:
    with db_of(app).session() as session:
        agency = ensure_agency(session, "demo", name="Demo Agency")
        _row, key = create_api_key(session, agency, "tests")
    return Agency(app, app.test_client(), key)


@pytest.fixture
def smtp_app(tmp_path: Path, smtp_server: SmtpServer) -> Flask:
    return create_app(email_settings(tmp_path, smtp_server.url), {"TESTING": True})


@pytest.fixture
def agency(smtp_app: Flask) -> Agency:
    return agency_for(smtp_app)
