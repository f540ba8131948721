"""Webhook and alert URLs reach public https addresses only: refused when subscribed (or
when the flow is read) and again at delivery, the connection pinned to the address that
was checked, and each failure recorded as a short class, never the socket's message."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from config.settings import Settings
from gateway.services import destinations
from gateway.services.pinned_http import PinnedAdapter
from gateway.store.db import db_of
from gateway.store.models import Agency
from gateway.store.results_models import WebhookSubscription
from tests.alerts.test_alerts import complete, deliver_in_the_test
from tests.conftest import bearer
from tests.flows.test_flow_results_fields import HEAD, messages
from tests.support.results import AddSurvey

PUBLIC = "93.184.215.14"

FORBIDDEN = [
    "http://localhost:6379/",
    "http://[::1]/",
    "https://127.0.0.1:5432/",
    "https://10.0.0.1/",
    "https://172.16.0.9/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]:5432/",
    "https://[fc00::1]/",
    "https://[fe80::1]/",
    "https://[::ffff:10.0.0.1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://224.0.0.1/",
    "https://0.0.0.0/",
    "https://100.64.0.1/",
    "https://localhost/",
    "https://metadata.google.internal/",
    "http://crm.example.gov/x",
]


class Resolver:
    """Stands in for DNS: each name resolves to the address the test sets."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.addresses: dict[str, str] = {}
        self.lookups: list[str] = []
        monkeypatch.setattr(destinations.socket, "getaddrinfo", self.getaddrinfo)

    def getaddrinfo(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        self.lookups.append(host)
        if host not in self.addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        address = self.addresses[host]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    return Resolver(monkeypatch)


class Connections:
    """Records every socket the deliveries open, refusing each (no traffic leaves)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened: list[tuple[str, int]] = []
        monkeypatch.setattr("urllib3.util.connection.create_connection", self.create)
        monkeypatch.setattr("urllib3.connection.connection.create_connection", self.create)

    def create(self, address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        self.opened.append(address)
        raise ConnectionRefusedError(111, f"Connection refused to {address}")


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Connections:
    return Connections(monkeypatch)


class Receiver:
    """A local HTTP receiver, allowed by the operator's allowlist."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server name)
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                received.append(dict(self.headers.items()))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    served = Receiver()
    yield served
    served.close()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def settings(settings: Settings, receiver: Receiver, closed_port: int) -> Settings:
    allowed = (*settings.outbound_allowlist, receiver.origin, f"http://127.0.0.1:{closed_port}")
    return dataclasses.replace(settings, outbound_allowlist=allowed)


def subscribe(client: FlaskClient, key: str, url: str) -> Any:
    return client.post("/api/v1/webhooks", json={"url": url}, headers=bearer(key))


def add_subscription(app: Flask, url: str) -> None:
    """A subscription written straight to the store (as if its name resolved elsewhere
    when it was subscribed)."""
    with db_of(app).session() as session:
        agency = session.scalars(sa.select(Agency).where(Agency.slug == "dmv")).one()
        session.add(WebhookSubscription(agency_id=agency.id, url=url))


def deliveries(client: FlaskClient, key: str) -> list[dict[str, Any]]:
    listing: list[dict[str, Any]] = client.get(
        "/api/v1/webhooks/deliveries", headers=bearer(key)
    ).json["data"]
    return listing


@pytest.mark.parametrize("url", FORBIDDEN)
def test_a_subscription_to_a_forbidden_address_is_refused_naming_the_url(
    client: FlaskClient, dmv_key: str, resolver: Resolver, url: str
) -> None:
    response = subscribe(client, dmv_key, url)
    assert response.status_code == 422
    assert response.json["error"]["details"] == {"field": "url"}
    assert client.get("/api/v1/webhooks", headers=bearer(dmv_key)).json["data"] == []


@pytest.mark.parametrize("private", ["10.1.2.3", "127.0.0.1", "169.254.169.254", "fd00::5"])
def test_a_name_that_resolves_to_a_private_address_is_refused_when_subscribed(
    client: FlaskClient, dmv_key: str, resolver: Resolver, private: str
) -> None:
    resolver.addresses["hooks.rebind.example.com"] = private
    response = subscribe(client, dmv_key, "https://hooks.rebind.example.com/x")
    assert response.status_code == 422
    assert response.json["error"]["details"] == {"field": "url"}


def test_a_public_name_is_subscribed(client: FlaskClient, dmv_key: str, resolver: Resolver) -> None:
    resolver.addresses["hooks.public.example.com"] = PUBLIC
    assert subscribe(client, dmv_key, "https://hooks.public.example.com/x").status_code == 201


@pytest.mark.parametrize("url", FORBIDDEN)
def test_a_delivery_to_a_forbidden_address_is_refused_without_a_connection(
    app: Flask,
    client: FlaskClient,
    dmv_key: str,
    add_survey: AddSurvey,
    resolver: Resolver,
    connections: Connections,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
) -> None:
    deliver_in_the_test(app, monkeypatch)
    add_subscription(app, url)
    complete(app, add_survey, {"trust": "yes"})
    (delivery,) = deliveries(client, dmv_key)
    assert delivery["status"] == "failed"
    assert [a["error"] for a in delivery["attempts"]] == ["address not allowed"]
    assert connections.opened == []


def test_a_name_that_resolves_privately_at_delivery_is_refused_without_a_connection(
    app: Flask,
    client: FlaskClient,
    dmv_key: str,
    add_survey: AddSurvey,
    resolver: Resolver,
    connections: Connections,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deliver_in_the_test(app, monkeypatch)
    resolver.addresses["hooks.rebind.example.com"] = PUBLIC
    assert subscribe(client, dmv_key, "https://hooks.rebind.example.com/x").status_code == 201
    resolver.addresses["hooks.rebind.example.com"] = "127.0.0.1"  # DNS rebinding
    complete(app, add_survey, {"trust": "yes"})
    (delivery,) = deliveries(client, dmv_key)
    assert [a["error"] for a in delivery["attempts"]] == ["address not allowed"]
    assert delivery["status"] == "failed"
    assert connections.opened == []


def test_a_public_name_is_connected_at_the_address_checked_and_resolved_once(
    app: Flask,
    client: FlaskClient,
    dmv_key: str,
    add_survey: AddSurvey,
    resolver: Resolver,
    connections: Connections,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deliver_in_the_test(app, monkeypatch)
    resolver.addresses["hooks.public.example.com"] = PUBLIC
    assert subscribe(client, dmv_key, "https://hooks.public.example.com/x").status_code == 201
    resolver.lookups.clear()
    complete(app, add_survey, {"trust": "yes"})
    assert connections.opened == [(PUBLIC, 443)]
    assert resolver.lookups == ["hooks.public.example.com"]
    (delivery,) = deliveries(client, dmv_key)
    assert [a["error"] for a in delivery["attempts"]] == ["connection refused"]
    assert delivery["status"] == "pending"  # retried later


def test_the_pinned_connection_checks_the_certificate_for_the_name() -> None:
    destination = destinations.Destination(
        "https://hooks.public.example.com/x", "https", "hooks.public.example.com", 443, PUBLIC
    )
    request = requests.Request("POST", destination.url).prepare()
    host, pool = PinnedAdapter(destination).build_connection_pool_key_attributes(request, True)
    assert host["host"] == PUBLIC
    assert pool["server_hostname"] == pool["assert_hostname"] == "hooks.public.example.com"


def test_an_allowlisted_local_receiver_gets_the_delivery_with_its_host_header(
    app: Flask,
    client: FlaskClient,
    dmv_key: str,
    add_survey: AddSurvey,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deliver_in_the_test(app, monkeypatch)
    assert subscribe(client, dmv_key, f"{receiver.origin}/hook").status_code == 201
    complete(app, add_survey, {"trust": "yes"})
    (delivery,) = deliveries(client, dmv_key)
    assert delivery["status"] == "delivered"
    (headers,) = receiver.requests
    assert headers["Host"] == receiver.origin.removeprefix("http://")


def test_a_closed_port_is_reported_as_a_short_class_not_the_socket_message(
    app: Flask,
    client: FlaskClient,
    dmv_key: str,
    add_survey: AddSurvey,
    closed_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deliver_in_the_test(app, monkeypatch)
    assert subscribe(client, dmv_key, f"http://127.0.0.1:{closed_port}/").status_code == 201
    complete(app, add_survey, {"trust": "yes"})
    (delivery,) = deliveries(client, dmv_key)
    assert [a["error"] for a in delivery["attempts"]] == ["connection refused"]


def test_a_local_receiver_the_allowlist_does_not_name_is_refused(
    client: FlaskClient, dmv_key: str
) -> None:
    response = subscribe(client, dmv_key, "http://127.0.0.1:9/hook")
    assert response.status_code == 422
    assert response.json["error"]["details"] == {"field": "url"}


@pytest.mark.parametrize(
    "url", ["https://169.254.169.254/x", "https://10.0.0.1/x", "https://[fd00::1]/x"]
)
def test_a_flow_alert_webhook_to_a_private_address_is_a_flow_error(url: str) -> None:
    text = HEAD + f'alerts:\n  - name: low\n    when: trust == "no"\n    webhook: "{url}"\n'
    (error,) = messages(text)
    assert "webhook" in error and "public address" in error


def test_the_allowlist_matches_whole_origins() -> None:
    allow = ("http://127.0.0.1:8080",)
    assert destinations.allowlisted("http://127.0.0.1:8080/hook", allow)
    assert not destinations.allowlisted("http://127.0.0.1:8081/hook", allow)
    assert not destinations.allowlisted("https://127.0.0.1:8080/hook", allow)
    assert destinations.public(destinations.ipaddress.ip_address(PUBLIC))
