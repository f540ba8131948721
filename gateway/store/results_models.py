"""Tables for agencies' results: dashboard staff, webhook subscriptions, alert and event
deliveries with every attempt made, and the secret that signs flow alert webhooks.

They share :class:`gateway.store.models.Base`, so migrations and tests see them with the
response store's tables.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.store.models import Agency, Answer, Base, Survey, utcnow

#: Events a subscription may ask for (the ``case.*`` events: docs/cases.md).
WEBHOOK_EVENTS: Final = (
    "survey.completed",
    "alert",
    "case.opened",
    "case.assigned",
    "case.status_changed",
    "case.replied",
    "case.answered",
    "case.overdue",
)
DELIVERY_STATUSES: Final = ("pending", "delivered", "failed")


def new_webhook_id() -> str:
    return "wh_" + secrets.token_urlsafe(12)


def new_signing_secret() -> str:
    """A webhook signing secret: ``whsec_`` and 32 URL-safe random characters (192 bits)."""
    return "whsec_" + secrets.token_urlsafe(24)


class StaffMember(Base):
    """A person of an agency who signs in to the dashboard; sees only that agency's data."""

    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    # werkzeug.security.generate_password_hash's output (scrypt by default).
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # admin | analyst | viewer (gateway.dashboard.roles); accounts made before roles are admins.
    role: Mapped[str] = mapped_column(sa.String(16), default="admin", server_default="admin")
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    # Each session carries the epoch it began in; moving it on ends every session of the
    # account (sign-out, a new password, a new role: gateway.dashboard.sessions).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    agency: Mapped[Agency] = relationship()


class WebhookSubscription(Base):
    """An agency's request to receive events at a URL, signed with the subscription's secret."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_webhook_id)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    # Kept to sign each delivery; shown to the agency once, when the subscription is made.
    secret: Mapped[str] = mapped_column(sa.String(64), default=new_signing_secret)
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=lambda: ["survey.completed"])
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]


class AlertSecret(Base):
    """The secret that signs the webhooks of an agency's flow ``alerts:`` rules."""

    __tablename__ = "alert_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), unique=True)
    secret: Mapped[str] = mapped_column(sa.String(64), default=new_signing_secret)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One event to deliver to one destination (a webhook URL or an email address)."""

    __tablename__ = "deliveries"
    __table_args__ = (sa.Index("ix_deliveries_agency_id_created_at", "agency_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    survey_id: Mapped[str] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    flow_id: Mapped[str] = mapped_column(sa.String(64))
    event: Mapped[str] = mapped_column(sa.String(32))  # "alert" or "survey.completed"
    rule: Mapped[str | None] = mapped_column(sa.String(64))  # the alert rule's name
    kind: Mapped[str] = mapped_column(sa.String(16))  # "webhook" or "email"
    target: Mapped[str] = mapped_column(sa.String(2000))  # URL or email address
    subscription_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("webhook_subscriptions.id", ondelete="SET NULL")
    )
    # The exact JSON body sent (signed as is), so every retry sends the same bytes.
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # While pending: when the next try is due (a try in progress holds it a lease ahead);
    # the sweeper re-queues a pending delivery overdue by more than a grace period.
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="delivery", order_by="DeliveryAttempt.id", cascade="all, delete-orphan"
    )


class DeliveryAttempt(Base):
    """One try at a delivery: when, the HTTP status (webhooks) and the error, if any."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    delivery: Mapped[Delivery] = relationship(back_populates="attempt_log")

    def as_json(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "status_code": self.status_code,
            "error": self.error,
            "at": self.created_at.isoformat().replace("+00:00", "Z"),
        }


# The A-11 report and the dashboard select one flow's surveys by creation time.
sa.Index("ix_surveys_flow_id_created_at", Survey.flow_id, Survey.created_at)
# The same selection covering every column the results read: the dashboard's and the
# report's scans of a date range are index-only scans (no visit to the table).
sa.Index(
    "ix_surveys_results_covering",
    Survey.agency_id,
    Survey.flow_id,
    Survey.created_at,
    postgresql_include=[
        "id", "channel", "language", "status", "sent_at", "completed_at", "flow_version_id",
        "context", "first_answered_at",
    ],
)  # fmt: skip
# The answered answers of the surveys created in a range, with what the figures read:
# the dashboard's answer counts and scores range-scan it and join the range's surveys.
sa.Index(
    "ix_answers_answered_by_survey_created_at",
    Answer.survey_created_at,
    Answer.question_id,
    postgresql_include=["survey_id", "value"],
    postgresql_where=Answer.outcome == "answered",
    sqlite_where=Answer.outcome == "answered",
)
# The sweeper's search for overdue pending deliveries.
sa.Index(
    "ix_deliveries_pending_next_attempt_at",
    Delivery.next_attempt_at,
    postgresql_where=Delivery.status == "pending",
    sqlite_where=Delivery.status == "pending",
)
# A survey's answered answers with their values, read without visiting the table (and
# "has this survey an answered question?", a semi-join on its first column).
sa.Index(
    "ix_answers_answered_covering",
    Answer.survey_id,
    Answer.question_id,
    postgresql_include=["value"],
    postgresql_where=Answer.outcome == "answered",
    sqlite_where=Answer.outcome == "answered",
)
