"""Prometheus metrics, served at ``/metrics``.

- ``gateway_http_requests_total`` and ``gateway_http_request_duration_seconds``: requests
  by method, endpoint (the URL rule, never the concrete path) and status.
- ``gateway_messages_total``: outbound texts, emails and calls by channel and the status
  they reached (``queued``/``sent``/``simulated`` when handed over, then Twilio's delivery
  statuses: ``delivered``, ``undelivered``, ``failed``...).
- ``gateway_surveys_completed_total``: surveys completed, by channel.
- ``gateway_queue_jobs``: rq jobs by queue and state (read from Redis at each scrape).

Message and survey counts are taken from the store's own writes (SQLAlchemy session
events, counted when the transaction commits), so the web process and the workers count
whatever path changed the row. Under gunicorn, or with workers on the same host, set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before the processes start: each
process then writes its samples there and ``/metrics`` adds them up (prometheus_client's
multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from config.settings import Settings
from gateway.services import queue
from gateway.store.models import Message, Survey
from gateway.surveys import messages

REQUESTS = Counter(
    "gateway_http_requests_total", "HTTP requests served", ["method", "endpoint", "status"]
)
REQUEST_SECONDS = Histogram(
    "gateway_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MESSAGES = Counter(
    "gateway_messages_total",
    "Outbound messages by channel and status reached",
    ["channel", "status"],
)
COMPLETIONS = Counter(
    "gateway_surveys_completed_total", "Surveys completed, by channel", ["channel"]
)

#: Internal message states that are not sends: a text waiting for, or held by, a job.
_NOT_SENDS = frozenset({"pending", "claimed", "dropped"})
_PENDING_KEY = "gateway_metrics_pending"

bp = Blueprint("metrics", __name__)


#: Label children by their labels: ``labels()`` checks and joins its arguments on every
#: call, which a request should not pay for its method, endpoint and status again.
_REQUEST_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, endpoint: str, status: int, seconds: float) -> None:
    key = (method, endpoint, status)
    children = _REQUEST_CHILDREN.get(key)
    if children is None:
        children = _REQUEST_CHILDREN[key] = (
            REQUESTS.labels(method, endpoint, str(status)),
            REQUEST_SECONDS.labels(method, endpoint),
        )
    children[0].inc()
    children[1].observe(seconds)


_SEND_CHILDREN: dict[tuple[str, str], Any] = {}


def count_sends(channel: str, status: str, count: int) -> None:
    """Outbound rows written outside the ORM's flush, counted once they are committed."""
    if status in _NOT_SENDS or not count:
        return
    child = _SEND_CHILDREN.get((channel, status))
    if child is None:
        child = _SEND_CHILDREN[(channel, status)] = MESSAGES.labels(channel, status)
    child.inc(count)


def count_completion(channel: str) -> None:
    """A survey completed outside the ORM's flush, counted once it is committed."""
    COMPLETIONS.labels(channel).inc()


def count_quick_step(channel: str, status: str, sends: int, *, completed: bool) -> None:
    """A step stored by a quick path, counted once it is committed: its outbound rows, and
    the survey's completion if the step completed it."""
    count_sends(channel, status, sends)
    if completed:
        count_completion(channel)


# -- counting the store's writes --------------------------------------------------------


def _status_added(obj: Any) -> str | None:
    added = inspect(obj).attrs.status.history.added
    return str(added[-1]) if added else None


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    pending: list[tuple[Counter, tuple[str, ...]]] = session.info.setdefault(_PENDING_KEY, [])
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Message) and obj.direction == "outbound":
            status = _status_added(obj)
            if status is not None and status not in _NOT_SENDS:
                pending.append((MESSAGES, (obj.channel, status)))
        elif isinstance(obj, Survey) and _status_added(obj) == "completed":
            pending.append((COMPLETIONS, (obj.channel,)))


def _after_commit(session: Session) -> None:
    for counter, labels in session.info.pop(_PENDING_KEY, []):
        counter.labels(*labels).inc()
    for channel, status, count in session.info.pop(messages.UNFLUSHED_SENDS, []):
        count_sends(channel, status, count)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(messages.UNFLUSHED_SENDS, None)


def _listen() -> None:
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


# -- queue depths -----------------------------------------------------------------------


class QueueDepths(Collector):
    """rq jobs by queue and state, read from Redis when scraped."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        settings: Settings = self.app.extensions["settings"]
        family = GaugeMetricFamily(
            "gateway_queue_jobs", "rq jobs by queue and state", labels=["queue", "state"]
        )
        if settings.redis_url:
            connection = queue.redis_of(self.app)
            for purpose in queue.QUEUES:
                name = queue.queue_name(settings, purpose)
                rq_queue = Queue(name, connection=connection)
                try:
                    family.add_metric([purpose, "queued"], rq_queue.count)
                    for state, registry in (
                        ("scheduled", ScheduledJobRegistry(queue=rq_queue)),
                        ("started", StartedJobRegistry(queue=rq_queue)),
                        ("failed", FailedJobRegistry(queue=rq_queue)),
                    ):
                        family.add_metric([purpose, state], registry.count)
                except RedisError:
                    continue  # /readyz reports Redis; the scrape still returns the rest
        yield family


# -- the endpoint -----------------------------------------------------------------------


def _process_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@bp.get("/metrics")
def metrics_page() -> Response:
    queues = CollectorRegistry()
    queues.register(QueueDepths(current_app._get_current_object()))  # type: ignore[attr-defined]
    body = _process_metrics() + generate_latest(queues)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    _listen()
    app.register_blueprint(bp)
