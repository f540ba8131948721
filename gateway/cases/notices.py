"""Webhook events about cases, for agencies that work cases in their own systems.

Each event is a :class:`~gateway.store.results_models.Delivery` per subscription asking
for it, signed and retried like every event (:mod:`gateway.alerts.delivery`), and queued
only once the transaction that made the change has committed.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from gateway.alerts.rules import DISPATCH_KEY, Dispatch
from gateway.store.case_models import Case
from gateway.store.results_models import Delivery, WebhookSubscription
from gateway.surveys.serializers import timestamp

log = logging.getLogger(__name__)

CASE_OPENED: Final = "case.opened"
CASE_ASSIGNED: Final = "case.assigned"
CASE_STATUS: Final = "case.status_changed"
CASE_REPLIED: Final = "case.replied"
CASE_ANSWERED: Final = "case.answered"
CASE_OVERDUE: Final = "case.overdue"


def body(event_name: str, case: Case, assignee: str | None, at: datetime, **extra: Any) -> str:
    """The JSON body of a case event (compact, stable order): the case as it is now."""
    document: dict[str, Any] = {
        "event": event_name,
        "case_id": case.id,
        "survey_id": case.survey_id,
        "flow": case.flow_id,
        "channel": case.channel,
        "status": case.status,
        "priority": case.priority,
        "resolution": case.resolution,
        "team": case.team,
        "assignee": assignee,
        "opened_at": timestamp(case.opened_at),
        "due_at": timestamp(case.due_at),
        "at": timestamp(at),
        **extra,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def announce(
    session: Session,
    case: Case,
    event_name: str,
    assignee: str | None,
    at: datetime,
    **extra: Any,
) -> list[Delivery]:
    """Record the deliveries of ``event_name`` to each subscription asking for it; queue
    them after commit."""
    subscriptions = session.scalars(
        sa.select(WebhookSubscription).where(
            WebhookSubscription.agency_id == case.agency_id,
            WebhookSubscription.deleted_at.is_(None),
        )
    )
    text = body(event_name, case, assignee, at, **extra)
    deliveries = [
        Delivery(
            agency_id=case.agency_id,
            survey_id=case.survey_id,
            flow_id=case.flow_id,
            event=event_name,
            rule=case.rule,
            kind="webhook",
            target=sub.url,
            subscription_id=sub.id,
            body=text,
            status="pending",
            attempts=0,
        )
        for sub in subscriptions
        if event_name in (sub.events or [])
    ]
    if deliveries:
        queue_after_commit(session, deliveries)
    return deliveries


def queue_after_commit(session: Session, deliveries: list[Delivery]) -> None:
    """Add ``deliveries`` and hand them to the app's dispatch once the session commits."""
    session.add_all(deliveries)
    session.flush()
    ids = [d.id for d in deliveries]
    dispatch: Dispatch | None = (
        current_app.extensions.get(DISPATCH_KEY) if has_app_context() else None
    )
    if dispatch is None:
        log.warning("%d case deliveries recorded, none queued", len(ids))
        return
    event.listen(session, "after_commit", lambda _session: dispatch(ids), once=True)
