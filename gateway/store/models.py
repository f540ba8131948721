"""The response store's tables: agencies and their API keys, the flow versions surveys ran
on, surveys, the messages exchanged, the answers recorded and the opted-out contacts.

Every time is timezone-aware UTC (:class:`UTCDateTime` restores the zone that SQLite drops)
and every default is a callable, evaluated per row.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from gateway.store.sealed_column import SealedContact
from gateway.store.sealing import contact_hash

SURVEY_STATUSES: Final = (
    "scheduled",
    "queued",
    "sent",
    "started",
    "completed",
    "expired",
    "opted_out",
    "failed",
    "cancelled",
)
SurveyStatus = Literal[
    "scheduled",
    "queued",
    "sent",
    "started",
    "completed",
    "expired",
    "opted_out",
    "failed",
    "cancelled",
]
#: Statuses in which a survey still waits for the respondent (or for its first send).
OPEN_STATUSES: Final = ("scheduled", "queued", "sent", "started")
#: Statuses a survey never leaves.
FINAL_STATUSES: Final = ("completed", "expired", "opted_out", "failed", "cancelled")
#: The share of each ``surveys`` page PostgreSQL fills on insert (the rest is left for
#: rows' updated versions, see Survey).
SURVEYS_FILLFACTOR: Final = 80

#: A closed survey whose contact is not erased yet (``ix_surveys_contact_kept_closed_at``).
CONTACT_KEPT: Final = "contact IS NOT NULL AND closed_at IS NOT NULL"
#: A closed survey with no closing time: closed by something that did not record it (the
#: release before ``closed_at``, during a rolling deploy; a hand-written UPDATE).
CLOSING_UNRECORDED: Final = (
    "closed_at IS NULL AND status IN ('completed', 'expired', 'opted_out', 'failed', 'cancelled')"
)
#: An inbound message that matched no survey, its addresses not erased yet.
UNMATCHED_KEPT: Final = "survey_id IS NULL AND from_addr IS NOT NULL"

Direction = Literal["inbound", "outbound"]
AnswerOutcome = Literal["answered", "skipped", "unanswered"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_survey_id() -> str:
    """A public survey id: ``sv_`` and 20 URL-safe random characters (120 bits)."""
    return "sv_" + secrets.token_urlsafe(15)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL keeps the zone (``timestamptz``); SQLite keeps none, so values are stored as
    naive UTC there and given their zone back when read. Naive values are refused on the
    way in: a naive time is ambiguous, and refusing it finds the bug where it is made.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC times")
        value = value.astimezone(UTC)
        # SQLite would store the offset in the text and compare strings; keep one form.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: sa.JSON()}
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    program_name: Mapped[str | None] = mapped_column(sa.String(200))
    # Sent in the SMS HELP reply: who to contact about the survey.
    help_contact: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The agency's own settings (gateway.agencies.profiles); each None falls back to the
    # deployment's environment (TWILIO_*, EMAIL_FROM, QUIET_HOURS_*).
    # The name citizens see: the email From's display name and the SMS HELP reply.
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    # The whole SMS HELP reply, replacing the catalog's.
    help_text: Mapped[str | None] = mapped_column(sa.String(320))
    email_from: Mapped[str | None] = mapped_column(sa.String(254))
    email_reply_to: Mapped[str | None] = mapped_column(sa.String(254))
    # Quiet hours ("21:00-08:00", the respondent's local time) for the agency's starts.
    quiet_hours: Mapped[str | None] = mapped_column(sa.String(11))
    # The agency's own Twilio account (a subaccount): its SID, and its auth token sealed
    # at rest like a contact and never shown again.
    twilio_account_sid: Mapped[str | None] = mapped_column(sa.String(34), unique=True)
    twilio_auth_token: Mapped[str | None] = mapped_column(SealedContact())

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="agency")

    def __repr__(self) -> str:
        return f"<Agency {self.slug}>"


class ApiKey(Base):
    """An agency's API key. Only its SHA-256 is kept; the key is shown once, at creation."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    prefix: Mapped[str] = mapped_column(sa.String(16), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    # An admin key may also read and change the agency's settings (/api/v1/agency).
    admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    agency: Mapped[Agency] = relationship(back_populates="api_keys")

    def usable(self, now: datetime) -> bool:
        """Not revoked and not expired at ``now``."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at


class FlowVersion(Base):
    """The exact text of a flow file a survey was started on.

    A survey keeps running on this text even after the file changes on disk.
    """

    __tablename__ = "flow_versions"
    __table_args__ = (sa.UniqueConstraint("flow_id", "version", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int]
    agency_slug: Mapped[str] = mapped_column(sa.String(64))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    source: Mapped[str] = mapped_column(sa.Text)
    source_path: Mapped[str] = mapped_column(sa.String(500))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Survey(Base):
    """One survey sent to (or started by) one respondent."""

    __tablename__ = "surveys"
    __table_args__ = (
        sa.Index("ix_surveys_contact_hash_status", "contact_hash", "status"),
        # Closed surveys whose contact is still kept: what the erasure job scans.
        sa.Index(
            "ix_surveys_contact_kept_closed_at",
            "closed_at",
            postgresql_where=sa.text(CONTACT_KEPT),
            sqlite_where=sa.text(CONTACT_KEPT),
        ),
        # Normally empty: what the erasure gives a closing time first (gateway.privacy).
        sa.Index(
            "ix_surveys_closing_unrecorded",
            "id",
            postgresql_where=sa.text(CLOSING_UNRECORDED),
            sqlite_where=sa.text(CLOSING_UNRECORDED),
        ),
        sa.Index("ix_surveys_agency_id_created_at_id", "agency_id", "created_at", "id"),
        sa.UniqueConstraint("agency_id", "idempotency_key"),
        # Room on each page for a row's next version: an answer changes only columns no
        # index names (``state``, ``updated_at``), so PostgreSQL rewrites the row in place
        # (a HOT update) without touching the table's indexes, when the page has room.
        {"postgresql_with": {"fillfactor": SURVEYS_FILLFACTOR}},
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_survey_id)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    flow_version_id: Mapped[int] = mapped_column(sa.ForeignKey("flow_versions.id"), index=True)
    flow_id: Mapped[str] = mapped_column(sa.String(64))
    channel: Mapped[str] = mapped_column(sa.String(16))
    # E.164 phone number or email address, sealed at rest (gateway.privacy); "" for a
    # survey started from a public link and once erased (``contact_erased_at``).
    contact: Mapped[str] = mapped_column(SealedContact(empty=""), nullable=True)
    # Keyed hash of the contact, what lookups by contact compare; kept after erasure.
    contact_hash: Mapped[str | None] = mapped_column(sa.String(64))
    contact_erased_at: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(sa.String(16))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    # The engine's SessionState.to_dict(); empty until the survey starts.
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    send_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    queued_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # When the survey reached a final status (FINAL_STATUSES, which it never leaves): its
    # contact is erased CONTACT_RETENTION_DAYS after this. Set by ``_note_closing``.
    closed_at: Mapped[datetime | None]
    # When the first answered (not skipped) question was recorded; NULL while the survey
    # has none. A respondent, for the results, is a survey where this is set.
    first_answered_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(sa.String(500))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    request_hash: Mapped[str | None] = mapped_column(sa.String(64))
    provider_ref: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    sender: Mapped[str | None] = mapped_column(sa.String(64))
    # A flow's `consent: required` (gateway.surveys.consent): the wording sent, when it was sent,
    # and when the respondent said yes.
    consent_text: Mapped[str | None] = mapped_column(sa.String(500))
    consent_asked_at: Mapped[datetime | None]
    consent_given_at: Mapped[datetime | None]

    agency: Mapped[Agency] = relationship()
    flow_version: Mapped[FlowVersion] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="survey", order_by="Answer.id", cascade="all, delete-orphan"
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="survey", order_by=lambda: [Message.created_at, Message.id]
    )

    @validates("contact")
    def _hash_contact(self, _key: str, value: str) -> str:
        if value:
            self.contact_hash = contact_hash(value)
        return value

    @validates("status")
    def _note_closing(self, _key: str, status: str) -> str:
        if status in FINAL_STATUSES:
            if self.closed_at is None:
                self.closed_at = utcnow()
        elif self.closed_at is not None:  # never: a final status is never left
            self.closed_at = None
        return status

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __repr__(self) -> str:
        return f"<Survey {self.id} {self.flow_id} {self.status}>"


class Message(Base):
    """One SMS, call prompt or email, in either direction.

    Inbound messages matching no survey are kept too (``survey_id`` empty).
    ``provider_sid`` is unique so a webhook delivered twice is recognised; ``step_key``
    (``"{survey_id}:{n}"``) is unique so a prompt is sent once even when a job is retried.
    """

    __tablename__ = "messages"
    __table_args__ = (
        sa.Index(
            "ix_messages_unmatched_kept_created_at",
            "created_at",
            postgresql_where=sa.text(UNMATCHED_KEPT),
            sqlite_where=sa.text(UNMATCHED_KEPT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    # Not indexed: nothing selects messages by agency (they are read by survey), and each
    # index costs every webhook's message rows an entry.
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    direction: Mapped[str] = mapped_column(sa.String(8))
    channel: Mapped[str] = mapped_column(sa.String(16))
    # Sealed at rest (gateway.privacy); read back as "" once erased.
    from_addr: Mapped[str | None] = mapped_column(SealedContact())
    to_addr: Mapped[str | None] = mapped_column(SealedContact())
    # Keyed hash of the respondent's address (``from_addr`` inbound, ``to_addr`` outbound).
    contact_hash: Mapped[str | None] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    provider_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    step_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    error_code: Mapped[str | None] = mapped_column(sa.String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    survey: Mapped[Survey | None] = relationship(back_populates="messages")


class Answer(Base):
    """The answer to one question of one survey; a changed answer updates the row."""

    __tablename__ = "answers"
    __table_args__ = (sa.UniqueConstraint("survey_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[str] = mapped_column(sa.ForeignKey("surveys.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(sa.String(64))
    raw: Mapped[str | None] = mapped_column(sa.Text)
    # int, "yes"/"no", an option value, a list of values, text, or null (contract §1).
    value: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    outcome: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The survey's created_at, copied: the results select answers by their survey's
    # creation time from an index on it (gateway.reports.queries.answer_window).
    survey_created_at: Mapped[datetime | None]

    survey: Mapped[Survey] = relationship(back_populates="answers")


@sa.event.listens_for(Answer, "before_insert")
def _copy_survey_created_at(_mapper: Any, connection: sa.Connection, answer: Answer) -> None:
    if answer.survey_created_at is None:
        answer.survey_created_at = connection.scalar(
            sa.select(Survey.created_at).where(Survey.id == answer.survey_id)
        )


class OptOut(Base):
    """A contact that sent STOP (or similar), known only by its keyed hash
    (:func:`gateway.store.sealing.contact_hash`). START deletes the row."""

    __tablename__ = "opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    keyword: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@sa.event.listens_for(Message, "before_insert")
def _hash_message_contact(_mapper: Any, _connection: Any, message: Message) -> None:
    if message.contact_hash is None:
        address = message.from_addr if message.direction == "inbound" else message.to_addr
        message.contact_hash = contact_hash(address) if address else None
