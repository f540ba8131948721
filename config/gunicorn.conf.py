"""gunicorn settings for `Procfile`'s web process; every value can be overridden by the
environment (WEB_CONCURRENCY, GUNICORN_THREADS, PORT, GUNICORN_TIMEOUT, GUNICORN_REUSE_PORT)."""

import gc
import os

from prometheus_client import multiprocess

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
