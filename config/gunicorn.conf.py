"""gunicorn settings for `Procfile`'s web process; every value can be overridden by the
environment (WEB_CONCURRENCY, GUNICORN_THREADS, PORT, GUNICORN_TIMEOUT, GUNICORN_REUSE_PORT)."""

import gc
import html
import os
import socket
from typing import Any

from gunicorn import util as gunicorn_util
from prometheus_client import multiprocess

from gateway.http.security_headers import headers_for

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# A webhook spends much of its time waiting for PostgreSQL (several round trips and the
# commit): threads let a worker serve other requests meanwhile, where a sync worker idles.
# bench/sms_inbound.py and bench/voice_steps.py measure it against 2 sync workers.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Twilio gives a webhook 15 seconds; a request still running after 10 is better ended.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "10"))
graceful_timeout = 20
keepalive = 5
# Each worker listens on a socket of its own (SO_REUSEPORT), and the kernel spreads new
# connections over them evenly. On one shared socket, whichever worker woke first took
# them, and kept-alive connections (a load balancer's, a load test's) piled up on one
# worker while the other idled: bench/sms_inbound.py saw 36 to 46 of its 50 connections on
# one worker. Connections still waiting in a worker's queue when it stops are reset.
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "1") != "0"
accesslog = None  # the app logs requests itself, without personal data
# gunicorn's own lines (a malformed request, an error before the app answers) quote the
# request; this logger masks them as the app's lines are masked.
logger_class = "config.gunicorn_logs.GatewayLogger"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
preload_app = False


def post_worker_init(worker: object) -> None:
    """The app is loaded: move everything it holds (flows, models, libraries) out of the
    garbage collector's way. A full collection otherwise walks all of it and stops every
    thread of the worker for a few hundred milliseconds, the slowest responses' delay
    (bench/sms_inbound.py's p99); objects made later are collected as usual."""
    gc.collect()
    gc.freeze()


def child_exit(server: object, worker: object) -> None:
    """Drop a dead worker's live gauges from the shared metrics (PROMETHEUS_MULTIPROC_DIR)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


#: The most of an unread request body gunicorn drains before reusing a connection.
DRAINED_BODY_BYTES = 64 * 1024


def pre_request(worker: object, req: Any) -> None:
    """Close the connection after a request whose body may be left unread.

    An answer given without reading the body (a 413, a 401 before a batch is read) leaves
    the rest of it on the socket; gunicorn drains at most 64 KiB of it, then drops the
    connection, though the answer said ``keep-alive``, and the client's next request on it
    meets a broken pipe. Such a request is answered with ``Connection: close`` instead.
    """
    headers = dict(req.headers)
    length = headers.get("CONTENT-LENGTH", "")
    if "TRANSFER-ENCODING" in headers or (length.isdigit() and int(length) > DRAINED_BODY_BYTES):
        req.force_close()


def _write_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own error answers (400 malformed request, 414 request line too long, 431,
    500 from a worker that could not call the app) with the gateway's security headers, and
    a body that does not echo the request (its line may carry a signed link's token)."""
    https = os.environ.get("PUBLIC_BASE_URL", "").startswith("https://")
    title = html.escape(f"{status_int} {reason}")
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><h1>{title}</h1></body></html>"
    ).encode()
    lines = [
        f"HTTP/1.1 {status_int} {reason}",
        "Connection: close",
        "Content-Type: text/html; charset=utf-8",
        f"Content-Length: {len(body)}",
        "Cache-Control: no-store",
        *(f"{name}: {value}" for name, value in headers_for(https)),
    ]
    gunicorn_util.write_nonblock(sock, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


# gunicorn has no setting for its own error pages; its workers call this function.
gunicorn_util.write_error = _write_error
