"""Service recovery: when a survey completes, decide what to deliver, and to whom.

:func:`survey_completed` hears every completed survey (:mod:`gateway.surveys.events`, the
listener registered by :func:`gateway.alerts.delivery.init_app`), in the same transaction
that marks it completed. It evaluates the flow's ``alerts:`` rules against the answers
and records one :class:`~gateway.store.results_models.Delivery` per destination: each
matching rule's webhook and email, and each of the agency's webhook subscriptions. The
deliveries are handed to the job queue only once the transaction has committed (a job
must never look for a row that is not there yet); :mod:`gateway.alerts.delivery` sends
them. Webhook bodies are signed as documented in docs/results.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from gateway.flows.model import Flow
from gateway.store.models import Answer, Survey
from gateway.store.results_models import (
    AlertSecret,
    Delivery,
    WebhookSubscription,
)
from gateway.surveys.flow_versions import flow_for_version_id

log = logging.getLogger(__name__)

#: A comment's crisis route (:mod:`gateway.alerts.crisis`): not a completion's delivery.
CRISIS_EVENT = "comment.crisis"
#: ``app.extensions`` key of the function that queues committed deliveries by id.
DISPATCH_KEY = "delivery_dispatch"
SIGNATURE_HEADER = "X-Gateway-Signature"
TIMESTAMP_HEADER = "X-Gateway-Timestamp"
#: Receivers should refuse a request whose timestamp is older than this (replays).
TOLERANCE_SECONDS = 300

Dispatch = Callable[[Sequence[int]], None]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``timestamp + "." + body`` under ``secret``."""
    message = timestamp.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        age = now - int(timestamp)
    except ValueError:
        return False
    if abs(age) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def event_body(
    event_name: str, survey: Survey, answers: dict[str, Any], rule: str | None = None
) -> str:
    """The JSON body of an ``alert`` or ``survey.completed`` event (compact, stable order)."""
    completed = survey.completed_at
    body: dict[str, Any] = {
        "event": event_name,
        "flow": survey.flow_id,
        "survey_id": survey.id,
        "channel": survey.channel,
        "language": survey.language,
        "answers": answers,
        "context": survey.context or {},
        "completed_at": completed.isoformat().replace("+00:00", "Z") if completed else None,
    }
    if rule is not None:
        body["rule"] = rule
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def alert_secret(session: Session, agency_id: int, *, rotate: bool = False) -> str:
    """The secret signing the agency's flow alert webhooks; created when first needed."""
    row = session.scalars(sa.select(AlertSecret).where(AlertSecret.agency_id == agency_id)).first()
    if row is None:
        row = AlertSecret(agency_id=agency_id)
        session.add(row)
        session.flush()
    elif rotate:
        session.delete(row)
        session.flush()
        row = AlertSecret(agency_id=agency_id)
        session.add(row)
        session.flush()
    return row.secret


def _answers(session: Session, survey: Survey) -> dict[str, Any]:
    rows = session.execute(
        sa.select(Answer.question_id, Answer.value, Answer.outcome).where(
            Answer.survey_id == survey.id
        )
    )
    return {qid: (value if outcome == "answered" else None) for qid, value, outcome in rows}


def _flow(session: Session, survey: Survey) -> Flow:
    # Cached by version id: the version row (its whole YAML text) is not read again.
    return flow_for_version_id(session, survey.flow_version_id)


def plan_deliveries(
    flow: Flow,
    survey: Survey,
    answers: dict[str, Any],
    subscriptions: Sequence[WebhookSubscription],
) -> list[Delivery]:
    """The deliveries a completed survey causes (not yet added to a session)."""
    deliveries: list[Delivery] = []

    def add(event_name: str, kind: str, target: str, rule: str | None, sub: str | None) -> None:
        deliveries.append(
            Delivery(
                agency_id=survey.agency_id,
                survey_id=survey.id,
                flow_id=survey.flow_id,
                event=event_name,
                rule=rule,
                kind=kind,
                target=target,
                subscription_id=sub,
                body=event_body(event_name, survey, answers, rule),
                status="pending",
                attempts=0,
            )
        )

    matched = [rule for rule in flow.alerts if rule.when.evaluate(answers)]
    for rule in matched:
        if rule.webhook:
            add("alert", "webhook", rule.webhook, rule.name, None)
        if rule.email:
            add("alert", "email", rule.email, rule.name, None)
    for sub in subscriptions:
        if "survey.completed" in sub.events:
            add("survey.completed", "webhook", sub.url, None, sub.id)
        if "alert" in sub.events:
            for rule in matched:
                add("alert", "webhook", sub.url, rule.name, sub.id)
    return deliveries


def survey_completed(session: Session, survey: Survey) -> list[Delivery]:
    """Record the deliveries ``survey``'s completion causes; queue them after commit.

    Calling it again for the same survey records nothing more.
    """
    session.flush()
    subscriptions = list(
        session.scalars(
            sa.select(WebhookSubscription)
            .where(
                WebhookSubscription.agency_id == survey.agency_id,
                WebhookSubscription.deleted_at.is_(None),
            )
            .order_by(WebhookSubscription.created_at)
        )
    )
    flow = _flow(session, survey)
    if not flow.alerts and not subscriptions:
        return []  # the common case: nothing to deliver, whatever was delivered before
    already = session.scalar(
        sa.select(Delivery.id)
        .where(Delivery.survey_id == survey.id, Delivery.event != CRISIS_EVENT)
        .limit(1)
    )
    if already is not None:
        return []
    deliveries = plan_deliveries(flow, survey, _answers(session, survey), subscriptions)
    if not deliveries:
        return []
    session.add_all(deliveries)
    session.flush()
    dispatch_after_commit(session, survey.id, [d.id for d in deliveries])
    return deliveries


def dispatch_after_commit(session: Session, survey_id: str, ids: list[int]) -> None:
    """Queue the deliveries ``ids`` once the session's transaction has committed.

    Only the real commit counts: the release of a savepoint (a case opened in a nested
    transaction by a listener that runs later in the same transaction) is reported as a
    commit too, and a delivery job started then would not find its row yet.
    """
    dispatch: Dispatch | None = (
        current_app.extensions.get(DISPATCH_KEY) if has_app_context() else None
    )
    if dispatch is None:
        log.warning("survey %s: %d deliveries recorded, none queued", survey_id, len(ids))
        return
    sent: list[bool] = []

    def after_commit(committed: Session) -> None:
        if sent or committed.get_nested_transaction() is not None:
            return
        sent.append(True)
        dispatch(ids)

    event.listen(session, "after_commit", after_commit)
