"""Recording and reading the audit log (:class:`AuditEvent`).

Callers record inside the session that makes the change, so the change and its record
commit together or not at all.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy.orm import Session

from gateway.store.models import Agency
from gateway.store.security_models import AuditEvent

# The actions recorded, by name; `gateway audit list --action` filters on these.
ACTIONS = (
    "key.created",
    "key.revoked",
    "staff.created",
    "staff.signed_in",
    "staff.signed_out",
    "staff.sign_in_failed",
    "staff.locked_out",
    "staff.address_held",
    "webhook.subscribed",
    "webhook.deleted",
    "alert_secret.rotated",
    "agency.created",
    "agency.updated",
    "agency.sender_added",
    "agency.sender_default",
    "agency.sender_removed",
    "agency.twilio_set",
    "agency.twilio_cleared",
    "comment.themes_corrected",
)


def key_actor(prefix: str) -> str:
    return f"key:{prefix}"


def staff_actor(email: str) -> str:
    return f"staff:{email}"


def cli_actor() -> str:
    """The operating-system user running the ``gateway`` command."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in a container
        user = "unknown"
    return f"cli:{user}"


def request_actor() -> str:
    """The API key or staff member behind the current request."""
    prefix = getattr(g, "api_key_prefix", None)
    if prefix is not None:
        return key_actor(prefix)
    staff = getattr(g, "staff", None)
    if staff is not None:
        return staff_actor(staff.email)
    return "anonymous"


def record(
    session: Session,
    action: str,
    *,
    actor: str,
    agency_id: int | None,
    target: str | None = None,
) -> AuditEvent:
    """Add one audit event to ``session`` (committed with the caller's change)."""
    if action not in ACTIONS:
        raise ValueError(
            f"unknown audit action {action!r}; add it to gateway.agencies.audit.ACTIONS"
        )
    remote = request.remote_addr if has_request_context() else None
    event = AuditEvent(
        action=action,
        actor=actor[:340],
        agency_id=agency_id,
        target=target[:200] if target else None,
        remote_addr=remote,
    )
    session.add(event)
    return event


def list_events(
    session: Session,
    *,
    agency_slug: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> Sequence[tuple[AuditEvent, str | None]]:
    """The newest events first, each with its agency's slug (None when not tied to one)."""
    query = (
        sa.select(AuditEvent, Agency.slug)
        .outerjoin(Agency, Agency.id == AuditEvent.agency_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    if agency_slug is not None:
        query = query.where(Agency.slug == agency_slug)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    return [(row[0], row[1]) for row in session.execute(query)]
