"""The tables of an agency's own voice: the numbers and messaging services it texts and
calls from, and the contacts that opted out of its texts alone."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow

#: What a sender carries: texts (a number or a Messaging Service) or calls (a number).
SENDER_CHANNELS = ("sms", "voice")


class AgencySender(Base):
    """A number or Messaging Service an agency texts or calls from.

    ``address`` is an E.164 number or a Messaging Service SID (``MG...``). A number of a
    Messaging Service's pool is a row of its own with ``service`` set: a text to it
    belongs to the service's conversation (its *line*, see :attr:`line`). An address
    belongs to one agency (unique per channel here; across channels,
    :func:`gateway.agencies.senders.add_sender` keeps it to one agency), so an inbound
    text or call names its agency.
    """

    __tablename__ = "agency_senders"
    __table_args__ = (sa.UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(sa.String(8))
    address: Mapped[str] = mapped_column(sa.String(64))
    # The Messaging Service whose pool holds this number (SMS only).
    service: Mapped[str | None] = mapped_column(sa.String(34))
    # What the sender is for ("benefits line"), shown in listings.
    label: Mapped[str | None] = mapped_column(sa.String(100))
    # The agency's sender for flows that name none (one per agency and channel at most).
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def line(self) -> str:
        """The conversation a text to this address belongs to: its Messaging Service, or
        the address itself (what :attr:`gateway.store.models.Survey.sender` holds)."""
        return self.service or self.address


class AgencyOptOut(Base):
    """A contact that opted out of one agency's texts only (``OPT_OUT_SCOPE=agency``),
    known by its keyed hash; opting out of every agency is an ``opt_outs`` row."""

    __tablename__ = "agency_opt_outs"
    __table_args__ = (sa.UniqueConstraint("agency_id", "contact_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id", ondelete="CASCADE"))
    contact_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    keyword: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
