"""A local stand-in for Twilio's Messages API: a real HTTP server on a free port that
answers 201 like Twilio and records every message it was asked to send, with the time.

Point ``TWILIO_API_BASE_URL`` at :attr:`TwilioDouble.url`. ``delay`` makes each answer
slow (a worker can be killed mid-send); ``failures`` answers the first requests with the
given statuses (500, 503, ``"timeout"`` to hang past the client's timeout, ``"lost"`` to
hang for ``hang`` seconds and then drop the request unrecorded, as if it never reached
Twilio, or ``"accepted-slow"`` to accept and record the message at once but answer only
after ``hang`` seconds). :attr:`TwilioDouble.arrived` is set when a request comes in.

``GET .../Messages.json`` lists the accepted messages like Twilio's Messages list,
filtered by ``To`` and ``DateSent>``. A call (``POST .../Calls.json``, no ``Body``) is
answered and recorded the same way, with an empty body. Each request records the account
its URL names and what it was sent from (``From``, or the ``MessagingServiceSid``).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Received:
    at: float
    to: str
    body: str
    answered: int
    sid: str = ""
    #: What it was sent from: the ``From`` number, else the Messaging Service SID.
    from_: str = ""
    #: The account SID the request's URL names (``/Accounts/{sid}/...``).
    account: str = ""


@dataclass
class TwilioDouble:
    delay: float = 0.0
    failures: list[int | str] = field(default_factory=list)
    hang: float = 15.0
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    #: Keep connections open between requests (HTTP/1.1), as Twilio's API does.
    keep_alive: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if self.keep_alive else "HTTP/1.0"
            # Headers and body go out in two writes: without this, Nagle's algorithm holds
            # the body until the client's delayed ACK (40 ms a request on a kept-alive link).
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 - the http.server interface
                query = parse_qs(urlsplit(self.path).query)
                to = query.get("To", [None])[0]
                after = query.get("DateSent>", [None])[0]
                since = datetime.fromisoformat(after).timestamp() if after else 0.0
                found = [
                    r for r in double.delivered() if (to is None or r.to == to) and r.at >= since
                ]
                self._answer(200, double.message_page(found))

            def do_POST(self) -> None:  # noqa: N802 - the http.server interface
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                body = form.get("Body", [""])[0]  # a call has none
                sender = (form.get("From") or form.get("MessagingServiceSid") or [""])[0]
                parts = urlsplit(self.path).path.split("/")
                account = parts[parts.index("Accounts") + 1] if "Accounts" in parts else ""
                double.arrived.set()
                answer = double._next_answer()
                if answer == "lost":
                    time.sleep(double.hang)
                    self.close_connection = True
                    return
                if answer == "accepted-slow":
                    sid = "SM" + secrets.token_hex(16)
                    with double._lock:
                        double.received.append(
                            Received(time.time(), form["To"][0], body, 201, sid, sender, account)
                        )
                    time.sleep(double.hang)
                    self._answer(201, {"sid": sid, "status": "queued", "to": form["To"][0]})
                    return
                if answer == "timeout":
                    time.sleep(double.hang)
                    answer = 504
                elif double.delay:
                    time.sleep(double.delay)
                status = int(answer)
                sid = "SM" + secrets.token_hex(16)
                with double._lock:
                    double.received.append(
                        Received(time.time(), form["To"][0], body, status, sid, sender, account)
                    )
                payload = (
                    {"sid": sid, "status": "queued", "to": form["To"][0]}
                    if status == 201
                    else {"code": 20500, "message": "Internal error", "status": status}
                )
                self._answer(status, payload)

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _next_answer(self) -> int | str:
        with self._lock:
            return self.failures.pop(0) if self.failures else 201

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @staticmethod
    def message_page(messages: list[Received]) -> dict[str, Any]:
        """A page of Twilio's Messages list (one page: no ``next_page_uri``)."""
        return {
            "messages": [
                {
                    "sid": r.sid,
                    "to": r.to,
                    "body": r.body,
                    "status": "sent",
                    "direction": "outbound-api",
                    "date_sent": format_datetime(datetime.fromtimestamp(r.at, UTC)),
                }
                for r in messages
            ],
            "next_page_uri": None,
            "page": 0,
            "page_size": 50,
            "uri": "/2010-04-01/Accounts/AC/Messages.json",
        }

    def delivered(self) -> list[Received]:
        """Messages answered 201 (what Twilio would have sent)."""
        with self._lock:
            return [r for r in self.received if r.answered == 201]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
