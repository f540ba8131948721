"""An agency's senders: the numbers and Messaging Services it texts and calls from.

Each address belongs to one agency, for texts and calls alike (one Twilio account holds a
number, and one token signs its webhooks), so a text or call to it names its agency
(:mod:`gateway.agencies.routes`). An agency's first sender of a channel is its default,
what its flows send from when they name none; ``default`` moves that mark. A number of a
Messaging Service's pool is registered with ``service`` (the service is registered first,
by the same agency): texts to it belong to the service's conversation.

A sender is not removed while a survey of the agency is still open on it (for a number of
a pool, on its service): the replies to that survey would then have nowhere to go.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.agency_models import SENDER_CHANNELS, AgencySender
from gateway.store.models import OPEN_STATUSES, Agency, Survey

#: An E.164 phone number: ``+``, a country code and up to 15 digits in all.
E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
#: A Twilio Messaging Service SID.
SERVICE_SID: Final = re.compile(r"MG[0-9a-f]{32}")
#: The longest label kept.
MAX_LABEL: Final = 100


class SenderError(ValueError):
    """A sender that cannot be added or removed, and why (nothing was changed)."""


class SenderNotFound(LookupError):
    """No sender of this agency has that id."""


def _is_address(text: str) -> bool:
    """Whether ``text`` could be a sender's address (anything else is never looked up)."""
    return bool(E164.fullmatch(text) or SERVICE_SID.fullmatch(text))


def check_address(channel: str, address: str) -> str:
    """``address`` as stored when ``channel`` may send from it; SenderError otherwise."""
    if channel not in SENDER_CHANNELS:
        raise SenderError(
            f"the channel must be one of {', '.join(SENDER_CHANNELS)}, not {channel!r}"
        )
    address = address.strip()
    if E164.fullmatch(address):
        return address
    if SERVICE_SID.fullmatch(address):
        if channel != "sms":
            raise SenderError("a call is placed from a phone number, not a Messaging Service")
        return address
    raise SenderError(
        "a sender is an E.164 phone number like +12025550100"
        + (" or a Messaging Service SID (MG and 32 hex digits)" if channel == "sms" else "")
    )


def list_senders(session: Session, agency: Agency) -> list[AgencySender]:
    """The agency's senders: by channel, the default first, then oldest first."""
    return list(
        session.scalars(
            sa.select(AgencySender)
            .where(AgencySender.agency_id == agency.id)
            .order_by(AgencySender.channel, AgencySender.is_default.desc(), AgencySender.id)
        )
    )


def add_sender(
    session: Session,
    agency: Agency,
    channel: str,
    address: str,
    *,
    service: str | None = None,
    label: str | None = None,
    default: bool = False,
    reserved: Collection[str] = (),
) -> AgencySender:
    """Register ``address`` as the agency's ``channel`` sender; SenderError, nothing
    changed, when it is malformed, registered already for ``channel``, or registered by
    another agency for any channel (one account holds a number: one token signs its
    webhooks). ``reserved``: addresses refused as registered already (the deployment's own
    senders, which an agency's admin may not claim)."""
    address = check_address(channel, address)
    if label is not None and len(label) > MAX_LABEL:
        raise SenderError(f"the label is longer than {MAX_LABEL} characters")
    if service is not None:
        service = _pool_service(session, agency, channel, address, service)
    taken = session.scalar(
        sa.select(AgencySender.id).where(
            AgencySender.address == address,
            sa.or_(AgencySender.channel == channel, AgencySender.agency_id != agency.id),
        )
    )
    if taken is not None or address in reserved:
        # Which agency holds it is not this caller's business.
        raise SenderError(f"{address} is registered already as an {channel} sender")
    has_default = session.scalar(
        sa.select(AgencySender.id).where(
            AgencySender.agency_id == agency.id,
            AgencySender.channel == channel,
            AgencySender.is_default,
        )
    )
    sender = AgencySender(
        agency_id=agency.id,
        channel=channel,
        address=address,
        service=service,
        label=label or None,
        is_default=False,
    )
    session.add(sender)
    session.flush()
    if (default or has_default is None) and service is None:
        make_default(session, agency, sender.id)
    return sender


def _pool_service(
    session: Session, agency: Agency, channel: str, address: str, service: str
) -> str:
    """``service`` when the number ``address`` may join its pool: an SMS number of a
    Messaging Service the agency registered."""
    if channel != "sms" or not E164.fullmatch(address):
        raise SenderError("only an SMS phone number belongs to a Messaging Service's pool")
    owned = session.scalar(
        sa.select(AgencySender.id).where(
            AgencySender.agency_id == agency.id,
            AgencySender.channel == "sms",
            AgencySender.address == service,
        )
    )
    if owned is None:
        raise SenderError(f"register the Messaging Service {service} first, as an SMS sender")
    return service


def _owned(session: Session, agency: Agency, sender_id: int) -> AgencySender:
    sender = session.get(AgencySender, sender_id)
    if sender is None or sender.agency_id != agency.id:
        raise SenderNotFound(f"the agency has no sender with the id {sender_id}")
    return sender


def make_default(session: Session, agency: Agency, sender_id: int) -> AgencySender:
    """Make the sender its channel's default for the agency's flows that name none."""
    sender = _owned(session, agency, sender_id)
    if sender.service is not None:
        raise SenderError("send from the Messaging Service, not from one number of its pool")
    session.execute(
        sa.update(AgencySender)
        .where(
            AgencySender.agency_id == agency.id,
            AgencySender.channel == sender.channel,
            AgencySender.id != sender.id,
        )
        .values(is_default=False)
    )
    sender.is_default = True
    session.flush()
    return sender


def remove_sender(session: Session, agency: Agency, sender_id: int) -> AgencySender:
    """Remove the agency's sender ``sender_id``; SenderError, nothing changed, while a
    survey is open on it or (a Messaging Service) numbers of its pool remain."""
    sender = _owned(session, agency, sender_id)
    if sender.service is None:
        pooled = session.scalar(
            sa.select(sa.func.count()).where(AgencySender.service == sender.address)
        )
        if pooled:
            raise SenderError(f"remove the {pooled} number(s) of {sender.address}'s pool first")
    # A number of a pool carries the replies to the surveys open on its service.
    still_open = session.scalar(
        sa.select(sa.func.count()).where(
            Survey.agency_id == agency.id,
            Survey.sender == sender.line,
            Survey.channel == sender.channel,
            Survey.status.in_(OPEN_STATUSES),
        )
    )
    if still_open:
        raise SenderError(
            f"{still_open} survey(s) are still open on {sender.line}; "
            "remove it once they have closed"
        )
    was_default = sender.is_default
    session.delete(sender)
    session.flush()
    if was_default:
        following = session.scalars(
            sa.select(AgencySender)
            .where(
                AgencySender.agency_id == agency.id,
                AgencySender.channel == sender.channel,
                AgencySender.service.is_(None),
            )
            .order_by(AgencySender.id)
            .limit(1)
        ).first()
        if following is not None:
            following.is_default = True
            session.flush()
    return sender


def default_sender(session: Session, agency_id: int, channel: str) -> AgencySender | None:
    """The agency's default ``channel`` sender, if it registered any."""
    return session.scalars(
        sa.select(AgencySender).where(
            AgencySender.agency_id == agency_id,
            AgencySender.channel == channel,
            AgencySender.is_default,
        )
    ).first()


def owned_address(
    session: Session, agency_id: int, channel: str, address: str
) -> AgencySender | None:
    """The agency's ``channel`` sender at ``address`` (not a number of a pool)."""
    return session.scalars(
        sa.select(AgencySender).where(
            AgencySender.agency_id == agency_id,
            AgencySender.channel == channel,
            AgencySender.address == address,
            AgencySender.service.is_(None),
        )
    ).first()


def registered(session: Session, addresses: Sequence[str]) -> list[AgencySender]:
    """The senders, of any agency and channel, at any of ``addresses``."""
    wanted = [address for address in addresses if _is_address(address)]
    if not wanted:
        return []
    return list(session.scalars(sa.select(AgencySender).where(AgencySender.address.in_(wanted))))


def agency_lines(session: Session, agency_slug: str, channel: str) -> set[str]:
    """The addresses the agency ``agency_slug`` may send ``channel`` from (what a flow's
    ``sender:`` may name)."""
    return set(
        session.scalars(
            sa.select(AgencySender.address)
            .join(Agency, Agency.id == AgencySender.agency_id)
            .where(
                Agency.slug == agency_slug,
                AgencySender.channel == channel,
                AgencySender.service.is_(None),
            )
        )
    )


def registered_at(session: Session, channel: str, address: str) -> AgencySender | None:
    """The ``channel`` sender registered at ``address`` (a number texted or called), of
    whichever agency owns it."""
    if not _is_address(address):
        return None
    return session.scalars(
        sa.select(AgencySender).where(
            AgencySender.channel == channel, AgencySender.address == address
        )
    ).first()


def unowned(session: Session, agency_slug: str, wanted: Mapping[str, str | None]) -> list[str]:
    """What is wrong with a flow of ``agency_slug`` naming ``wanted`` (channel -> address)
    as its senders: each address the agency did not register for that channel."""
    problems = []
    for channel, address in wanted.items():
        if address is not None and address not in agency_lines(session, agency_slug, channel):
            problems.append(
                f"sender.{channel} {address} is not an {channel} sender of agency "
                f"'{agency_slug}'; register it with `gateway agencies add-sender "
                f"{agency_slug} {channel} {address}`"
            )
    return problems
