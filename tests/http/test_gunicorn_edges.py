"""The deployed server's own edges, under gunicorn with ``config/gunicorn.conf.py``: a
request whose body is left unread closes its connection cleanly, and gunicorn's own error
answers (malformed request, request line too long) carry the gateway's security headers."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.http.security_headers import CONTENT_SECURITY_POLICY
from tests.conftest import SHIPPED_FLOWS

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def gunicorn_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server's stdout and stderr go (gunicorn's own log lines included)."""
    return tmp_path_factory.mktemp("gunicorn-log") / "gunicorn.log"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, gunicorn_log: Path) -> Iterator[int]:
    """gunicorn serving the gateway on a free port, as the Procfile runs it."""
    tmp = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_REUSE_PORT": "0",
        "DATABASE_URL": f"sqlite:///{tmp / 'gateway.sqlite3'}",
        "FLOWS_DIR": str(SHIPPED_FLOWS),
        "SECRET_KEY": "test-secret-key",
    }
    log = gunicorn_log.open("wb")
    process = subprocess.Popen(
        [str(GUNICORN), "--config", "config/gunicorn.conf.py", "gateway.app:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert process.poll() is None, gunicorn_log.read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _raw(port: int, request: bytes) -> tuple[str, dict[str, str], str]:
    """The status line, headers and body of gunicorn's answer to raw request bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.decode("latin-1").partition("\r\n\r\n")
    status, *lines = head.split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status, headers, body


def test_a_too_large_body_is_answered_with_connection_close_and_the_next_request_works(
    server: int,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    body = b"email=a&password=b&csrf_token=" + b"x" * (400 * 1024)
    connection.request(
        "POST",
        "/dashboard/login",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = connection.getresponse()
    response.read()
    assert response.status == 413
    assert response.getheader("Connection") == "close"
    assert response.getheader("Content-Security-Policy") == CONTENT_SECURITY_POLICY
    # The client opens a new connection as told, instead of writing into a closed one.
    connection.request("GET", "/healthz")
    again = connection.getresponse()
    assert again.status == 200
    again.read()
    connection.close()


def test_a_small_request_keeps_its_connection_alive(server: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    assert response.getheader("Connection") == "keep-alive"
    connection.close()


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /s/" + b"t" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "414"),
        (b"NOT HTTP AT ALL /s/secret-token-value\r\n\r\n", "400"),
    ],
)
def test_gunicorns_own_error_answers_carry_the_security_headers(
    server: int, request_bytes: bytes, status: str
) -> None:
    line, headers, body = _raw(server, request_bytes)
    assert line.split(" ")[1] == status
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Connection"] == "close"
    assert "secret-token-value" not in body and "tttt" not in body


#: What a malformed request may carry and gunicorn's log must not repeat: a signed link's
#: token, a number, an address and a query value.
TOKEN = "eyJzdXJ2ZXkiOiJzdl8xMjM0NTY3ODkwIn0.Zk9xQm-secretsig"
SECRETS = (TOKEN, "2025550123", "quentin.respondent@example.gov", "Zanzibar")
CARRIED = f"/s/{TOKEN}?to=%2B12025550123&office=Zanzibar&email=quentin.respondent@example.gov"

MALFORMED = [
    # an invalid request line, an invalid method and an invalid HTTP version
    (f"NOT HTTP AT ALL {CARRIED}\r\n\r\n", "400"),
    (f"G@T {CARRIED} HTTP/1.1\r\nHost: x\r\n\r\n", "400"),
    (f"GET {CARRIED} HTTP/9.9\r\nHost: x\r\n\r\n", "400"),
    # a request line over 4,094 bytes, headers over the limit, and an invalid header
    (f"GET {CARRIED}&pad={'p' * 5000} HTTP/1.1\r\nHost: x\r\n\r\n", "414"),
    (f"GET {CARRIED} HTTP/1.1\r\nHost: x\r\nX-Big: {CARRIED * 200}\r\n\r\n", "400"),
    (f"GET {CARRIED} HTTP/1.1\r\nHost: x\r\nX Bad: {CARRIED}\r\n\r\n", "400"),
    (f"GET {CARRIED} HTTP/1.1\r\nHost: x\r\nX-Bad: {CARRIED}\x01\r\n\r\n", "400"),
]


def test_gunicorns_log_lines_for_malformed_requests_quote_nothing_they_carried(
    server: int, gunicorn_log: Path
) -> None:
    before = len(gunicorn_log.read_bytes())
    statuses = []
    for request_text, _status in MALFORMED:
        statuses.append(_raw(server, request_text.encode("latin-1"))[0].split(" ")[1])
    assert all(status.startswith("4") for status in statuses), statuses
    time.sleep(0.5)  # the worker's lines reach the file
    logged = gunicorn_log.read_bytes()[before:].decode("utf-8", "replace")
    assert logged.count("Invalid request from ip=") >= len(MALFORMED) - 1, logged
    for secret in SECRETS:
        assert secret not in logged, (secret, logged)
    assert "[request text withheld]" in logged
    assert TOKEN.split(".")[0] not in logged and "secretsig" not in logged
