"""Delivering alerts and events: signed webhook POSTs and emails, retried with backoff.

With ``REDIS_URL`` each delivery is an rq job on the send queue; without it the job runs in
a background thread of the web process (so a Twilio webhook or a survey page is never kept
waiting for an agency's server), and its retries on timers, through
:func:`gateway.services.queue.run_inline`. Every attempt is recorded with its HTTP status
or a short error class ("timeout", "connection refused", "tls error", "address not
allowed"...), never the socket's message. A webhook's URL is checked again before each
try and the connection pinned to the checked address (:mod:`gateway.services.destinations`).

A pending delivery carries ``next_attempt_at``, when its next try is due. A try first
claims the delivery by moving that time a lease ahead, so two jobs for the same delivery
never both send it. A delivery whose job was lost (the process died between the commit
and the enqueue, or Redis lost the job or its retry) stays overdue: the sweeper
(:func:`requeue_overdue`, run by :func:`gateway.sending.sweeper.sweep`) queues it again once it is
``STALE_PENDING`` late.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import requests
import sqlalchemy as sa
from flask import Flask
from rq import Retry
from sqlalchemy.orm import Session

from channels.base import DeliveryError
from channels.email import OutgoingEmail
from gateway.agencies.profiles import EmailIdentity, email_identity
from gateway.alerts.rules import (
    DISPATCH_KEY,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    alert_secret,
    sign,
    survey_completed,
)
from gateway.services import destinations, pinned_http, queue
from gateway.services.providers import providers_of
from gateway.store.db import db_of
from gateway.store.models import Agency, utcnow
from gateway.store.results_models import Delivery, DeliveryAttempt, WebhookSubscription
from gateway.surveys import events

log = logging.getLogger(__name__)

#: A delivery is tried this many times in all.
MAX_ATTEMPTS = 5
#: Seconds before each retry.
RETRY_INTERVALS = [10, 60, 300, 1800]
TIMEOUT_SECONDS = 10.0
#: HTTP statuses worth retrying: the receiver may accept the same request later.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT = "feedback-gateway-webhooks/1"
#: How long a try holds its delivery: longer than a job may run (rq's job_timeout).
LEASE = timedelta(seconds=120)
JOB_TIMEOUT = 60
#: A pending delivery this late was lost on its way to the queue: the sweeper requeues it.
STALE_PENDING = timedelta(minutes=2)
#: Allowance for a retry that runs a moment before its due time (another host's clock).
EARLY = timedelta(seconds=5)
#: Deliveries requeued per sweep, at most.
SWEEP_BATCH = 200


class AttemptFailed(Exception):
    def __init__(self, message: str, *, status_code: int | None, retryable: bool) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retryable = retryable


def _error_class(exc: requests.RequestException) -> str:
    """A short name for a failed connection: the socket's own message would tell an
    agency which ports of which hosts answer."""
    if isinstance(exc, requests.Timeout):
        return "timeout"
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls error"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    if "refused" in str(exc).lower():
        return "connection refused"
    return "connection failed"


def _post(
    url: str, body: str, secret: str, delivery: dict[str, Any], allowlist: Sequence[str]
) -> int:
    try:
        destination = destinations.checked(url, allowlist)
    except destinations.DestinationRefused as exc:
        log.warning("delivery %s: destination refused: %s", delivery["id"], exc)
        raise AttemptFailed("address not allowed", status_code=None, retryable=False) from exc
    except destinations.NameNotResolved as exc:
        raise AttemptFailed("name not resolved", status_code=None, retryable=True) from exc
    timestamp = str(int(time.time()))
    data = body.encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, data),
        "X-Gateway-Event": delivery["event"],
        "X-Gateway-Delivery": str(delivery["id"]),
    }
    try:
        response = pinned_http.post(destination, data, headers, TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise AttemptFailed(_error_class(exc), status_code=None, retryable=True) from exc
    if 200 <= response.status_code < 300:
        return response.status_code
    raise AttemptFailed(
        f"the receiver answered HTTP {response.status_code}",
        status_code=response.status_code,
        retryable=response.status_code in RETRYABLE_STATUSES,
    )


def _email(app: Flask, delivery: dict[str, Any]) -> None:
    subject = f"Service recovery alert: {delivery['rule']} ({delivery['flow_id']})"
    text = (
        f"A survey of the flow {delivery['flow_id']} matched the alert rule "
        f"{delivery['rule']!r}.\n\nSurvey: {delivery['survey_id']}\n\n{delivery['body']}\n"
    )
    identity: EmailIdentity = delivery["identity"]
    email = OutgoingEmail(
        to=delivery["target"],
        subject=subject,
        text=text,
        html=f"<pre>{_escape(text)}</pre>",
        from_address=identity.address,
        from_name=identity.name,
        reply_to=identity.reply_to,
    )
    try:
        providers_of(app).email.send(email)
    except DeliveryError as exc:
        raise AttemptFailed(str(exc), status_code=None, retryable=exc.retryable) from exc


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _claim(session: Any, delivery_id: int, now: datetime) -> bool:
    """Take the pending, due delivery for one try (a lease ahead); False when another job
    holds it, it is not due yet, or it is delivered or failed already."""
    claimed = session.execute(
        sa.update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == "pending",
            sa.or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now + EARLY),
        )
        .values(next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount)


def _identity(session: Session, agency_id: int | None) -> EmailIdentity:
    """The email identity of the delivery's agency (the deployment's without one)."""
    agency = session.get(Agency, agency_id) if agency_id is not None else None
    return email_identity(agency) if agency is not None else EmailIdentity()


def _load(app: Flask, delivery_id: int) -> dict[str, Any] | None:
    """Claim the delivery and read what a try needs, in a session closed before the slow
    call; None when there is nothing to try."""
    with db_of(app).session() as session:
        if not _claim(session, delivery_id, utcnow()):
            return None  # delivered, given up, held by another job, or deleted
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return None
        secret = None
        if delivery.kind == "webhook":
            sub = (
                session.get(WebhookSubscription, delivery.subscription_id)
                if delivery.subscription_id
                else None
            )
            secret = sub.secret if sub is not None else alert_secret(session, delivery.agency_id)
        return {
            "id": delivery.id,
            "event": delivery.event,
            "rule": delivery.rule,
            "kind": delivery.kind,
            "target": delivery.target,
            "flow_id": delivery.flow_id,
            "survey_id": delivery.survey_id,
            "body": delivery.body,
            "secret": secret,
            "identity": _identity(session, delivery.agency_id),
        }


def _record(
    app: Flask, delivery_id: int, status_code: int | None, error: str | None, *, retry: bool
) -> int:
    """Log one attempt (and when a retry is due); return how many attempts have been made."""
    now = utcnow()
    with db_of(app).session() as session:
        delivery = session.get(Delivery, delivery_id, with_for_update=True)
        assert delivery is not None
        delivery.attempts += 1
        session.add(
            DeliveryAttempt(
                delivery_id=delivery_id,
                attempt=delivery.attempts,
                status_code=status_code,
                error=error[:500] if error else None,
                created_at=now,
            )
        )
        if error is None:
            delivery.status = "delivered"
        elif retry and delivery.attempts < MAX_ATTEMPTS:
            delivery.next_attempt_at = now + timedelta(seconds=_interval(delivery.attempts))
        return delivery.attempts


def _interval(attempts: int) -> int:
    """Seconds before the try after ``attempts`` tries (rq's Retry uses the same list)."""
    return RETRY_INTERVALS[min(attempts, len(RETRY_INTERVALS)) - 1]


def _give_up(app: Flask, delivery_id: int) -> None:
    with db_of(app).session() as session:
        session.execute(
            sa.update(Delivery).where(Delivery.id == delivery_id).values(status="failed")
        )


def deliver(app: Flask, delivery_id: int) -> Retry | None:
    """Try one delivery once; a retryable failure asks rq to run the job again later."""
    delivery = _load(app, delivery_id)
    if delivery is None:
        return None  # delivered or given up already (a duplicate job)
    try:
        if delivery["kind"] == "webhook":
            allowlist = app.extensions["settings"].outbound_allowlist
            status_code = _post(
                delivery["target"], delivery["body"], delivery["secret"], delivery, allowlist
            )
        else:
            _email(app, delivery)
            status_code = None
    except AttemptFailed as exc:
        attempts = _record(app, delivery_id, exc.status_code, str(exc), retry=exc.retryable)
        log.warning("delivery %s attempt %d failed: %s", delivery_id, attempts, exc)
        if exc.retryable and attempts < MAX_ATTEMPTS:
            # The interval after this try (the delivery's count, not this job's: a
            # requeued delivery may be on its third try in a job's first run); the
            # delivery's attempts, not rq, bound the tries.
            return Retry(max=MAX_ATTEMPTS, interval=_interval(attempts))
        _give_up(app, delivery_id)
        return None
    _record(app, delivery_id, status_code, None, retry=False)
    return None


def enqueue_deliveries(app: Flask, delivery_ids: Sequence[int]) -> None:
    """Queue committed deliveries: rq jobs with Redis, else a background thread each."""
    app = queue.unproxied(app)
    for delivery_id in delivery_ids:
        if not queue.in_process(app):
            queue.queue_of(app).enqueue(
                queue.DELIVER_JOB, str(delivery_id), job_timeout=JOB_TIMEOUT
            )
            continue
        thread = threading.Thread(
            target=queue.run_inline,
            args=(app, queue.DELIVER_JOB, str(delivery_id)),
            daemon=True,
        )
        app.extensions.setdefault("delivery_threads", []).append(thread)
        thread.start()


def requeue_overdue(app: Flask, now: datetime) -> list[int]:
    """Queue again the pending deliveries overdue by more than ``STALE_PENDING``: their
    job (or its retry) was lost. Each is marked due now, so it is requeued once per
    ``STALE_PENDING`` at most, and its try's claim keeps a duplicate job from sending it
    twice."""
    with db_of(app).session() as session:
        overdue = list(
            session.scalars(
                sa.select(Delivery.id)
                .where(
                    Delivery.status == "pending",
                    Delivery.next_attempt_at <= now - STALE_PENDING,
                )
                .order_by(Delivery.next_attempt_at)
                .limit(SWEEP_BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        if overdue:
            session.execute(
                sa.update(Delivery)
                .where(Delivery.id.in_(overdue))
                .values(next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
    if overdue:
        log.info("requeueing %d overdue deliveries", len(overdue))
        enqueue_deliveries(app, overdue)
    return overdue


def wait_for_background(app: Flask, timeout: float = 10.0) -> None:
    """Wait for the in-process deliveries started so far (for the simulator and tests)."""
    threads: list[threading.Thread] = app.extensions.get("delivery_threads", [])
    while threads:
        threads.pop(0).join(timeout)


def init_app(app: Flask) -> None:
    """Have :func:`gateway.alerts.rules.survey_completed` hear every completed survey, and
    queue the deliveries it records through this app."""
    events.on_completed(survey_completed)
    app.extensions[DISPATCH_KEY] = lambda ids: enqueue_deliveries(app, ids)
