"""A local stand-in for Twilio's Messages API: a real HTTP server on a free port that
answers 201 like Twilio and records every message it was asked to send, with the time.

Point ``TWILIO_API_BASE_URL`` at :attr:`TwilioDouble.url`. ``delay`` makes each answer
slow (a worker can be killed mid-send); ``failures`` answers the first requests with the
given statuses (500, 503, or ``"timeout"`` to hang past the client's timeout).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Received:
    at: float
    to: str
    body: str
    answered: int


@dataclass
class TwilioDouble:
    delay: float = 0.0
    failures: list[int | str] = field(default_factory=list)
    hang: float = 15.0
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server interface
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                answer = double._next_answer()
                if answer == "timeout":
                    time.sleep(double.hang)
                    answer = 504
                elif double.delay:
                    time.sleep(double.delay)
                status = int(answer)
                with double._lock:
                    double.received.append(
                        Received(time.time(), form["To"][0], form["Body"][0], status)
                    )
                sid = "SM" + secrets.token_hex(16)
                payload = (
                    {"sid": sid, "status": "queued", "to": form["To"][0]}
                    if status == 201
                    else {"code": 20500, "message": "Internal error", "status": status}
                )
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

    def delivered(self) -> list[Received]:
        """Messages answered 201 (what Twilio would have sent)."""
        with self._lock:
            return [r for r in self.received if r.answered == 201]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
