"""An agency's own settings: the names citizens see, its HELP reply, its email identity,
its default quiet hours and its own Twilio account.

Every setting left empty falls back to the deployment's (``TWILIO_*``, ``EMAIL_FROM``,
the catalog's HELP reply, 08:00 to 21:00), so a deployment serving one agency sets
none. A change is checked whole before anything is written: a bad value is refused
with the reason, and nothing changes. The Twilio auth token is sealed at rest like a
contact (:mod:`gateway.store.sealing`) and never given back: :func:`describe` says only
whether one is set.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.agencies.senders import list_senders
from gateway.flows.model import QuietHours
from gateway.store.agency_models import AgencySender
from gateway.store.models import Agency

#: The settings :func:`update_profile` changes, each with its longest value.
PROFILE_FIELDS: Final = {
    "name": 200,
    "display_name": 200,
    "program_name": 200,
    "help_contact": 300,
    "help_text": 320,
    "email_from": 254,
    "email_reply_to": 254,
    "quiet_hours": 11,
}
#: The names citizens see the agency by.
NAME_FIELDS: Final = ("name", "display_name")
#: The settings that are email addresses.
EMAIL_FIELDS: Final = ("email_from", "email_reply_to")
#: Settings that may not be emptied (the others fall back to the deployment's).
REQUIRED: Final = frozenset({"name"})
EMAIL: Final = re.compile(
    r"[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
)
QUIET_HOURS: Final = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])")
#: Unicode categories refused in a setting: controls (C0 and C1), format characters (such
#: as a right-to-left override, which would disguise a name), line and paragraph separators.
UNSHOWN: Final = frozenset({"Cc", "Cf", "Zl", "Zp"})
ACCOUNT_SID: Final = re.compile(r"AC[0-9a-f]{32}")
AUTH_TOKEN: Final = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class EmailIdentity:
    """Who an agency's emails are from: the From address (None: ``EMAIL_FROM``), the name
    shown with it and the Reply-To address (None: none)."""

    address: str | None = None
    name: str | None = None
    reply_to: str | None = None


def email_identity(agency: Agency) -> EmailIdentity:
    """The agency's email identity; all None when it set none (the deployment's)."""
    named = agency.email_from is not None or agency.display_name is not None
    return EmailIdentity(
        agency.email_from,
        (agency.display_name or agency.name) if named else None,
        agency.email_reply_to,
    )


class ProfileError(ValueError):
    """A setting refused, naming it (nothing was changed)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """``"08:00-21:00"`` as its start and end; ProfileError unless start comes first."""
    match = QUIET_HOURS.fullmatch(value)
    if match is None:
        raise ProfileError("quiet_hours", 'write the hours as "HH:MM-HH:MM", like "08:00-21:00"')
    start = time(int(match[1]), int(match[2]))
    end = time(int(match[3]), int(match[4]))
    if start >= end:
        raise ProfileError("quiet_hours", "the start comes before the end, within one day")
    return start, end


def contact_hours(agency: Agency) -> QuietHours | None:
    """The agency's default quiet hours as a flow's, None when it set none."""
    if agency.quiet_hours is None:
        return None
    start, end = parse_quiet_hours(agency.quiet_hours)
    return QuietHours(start, end)


def _checked(field: str, value: object) -> str | None:
    if field not in PROFILE_FIELDS:
        raise ProfileError(field, f"unknown setting; the settings are {', '.join(PROFILE_FIELDS)}")
    if value is not None and not isinstance(value, str):
        raise ProfileError(field, "must be a string or null")
    text = (value or "").strip()
    if not text:
        if field in REQUIRED:
            raise ProfileError(field, "may not be empty")
        return None
    if any(unicodedata.category(c) in UNSHOWN for c in text):
        raise ProfileError(field, "may not hold control characters or line breaks")
    if len(text) > PROFILE_FIELDS[field]:
        raise ProfileError(field, f"is longer than {PROFILE_FIELDS[field]} characters")
    if field in EMAIL_FIELDS and not EMAIL.fullmatch(text):
        raise ProfileError(field, "must be one email address, like feedback@agency.gov")
    if field == "quiet_hours":
        parse_quiet_hours(text)
    if field == "help_text" and "STOP" not in text.upper():
        # Carriers (CTIA) require the HELP reply to say how to opt out.
        raise ProfileError(field, "must say how to stop the texts (reply STOP)")
    return text


def update_profile(
    session: Session,
    agency: Agency,
    changes: Mapping[str, object],
    *,
    exclusive: bool = False,
) -> list[str]:
    """Apply ``changes`` (setting -> value, None or "" to fall back to the deployment's);
    the names of the settings that changed. ProfileError, nothing changed, on any bad one.

    ``exclusive`` (an agency's admin changing its own settings): a name another agency
    goes by, or an email address on a domain another agency's email uses, is refused, so
    that no agency texts or mails as another; the operator's command may share a domain.
    """
    checked = {field: _checked(field, value) for field, value in changes.items()}
    if exclusive:
        _check_exclusive(session, agency, checked)
    changed = [field for field, value in checked.items() if getattr(agency, field) != value]
    for field in changed:
        setattr(agency, field, checked[field])
    session.flush()
    return changed


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower()


def _check_exclusive(session: Session, agency: Agency, checked: Mapping[str, str | None]) -> None:
    """ProfileError for a name of ``checked`` another agency goes by, or an email address
    on another agency's email domain."""
    others = session.execute(
        sa.select(Agency.name, Agency.display_name, Agency.email_from, Agency.email_reply_to).where(
            Agency.id != agency.id
        )
    ).all()
    names = {name.casefold() for row in others for name in row[:2] if name}
    domains = {_domain(address) for row in others for address in row[2:] if address}
    for field in NAME_FIELDS:
        value = checked.get(field)
        if value is not None and value.casefold() in names:
            raise ProfileError(field, "another agency goes by that name")
    for field in EMAIL_FIELDS:
        value = checked.get(field)
        if value is not None and _domain(value) in domains:
            raise ProfileError(
                field, "its domain is another agency's; the gateway's operator may share it"
            )


def set_twilio_account(session: Session, agency: Agency, account_sid: str, auth_token: str) -> None:
    """Send and check the agency's webhooks with its own Twilio account (a subaccount)."""
    account_sid, auth_token = account_sid.strip(), auth_token.strip()
    if not ACCOUNT_SID.fullmatch(account_sid):
        raise ProfileError(
            "twilio_account_sid", "must be a Twilio account SID (AC and 32 hex digits)"
        )
    if not AUTH_TOKEN.fullmatch(auth_token):
        raise ProfileError("twilio_auth_token", "must be a Twilio auth token (32 hex digits)")
    holder = session.scalar(
        sa.select(Agency.id).where(Agency.twilio_account_sid == account_sid, Agency.id != agency.id)
    )
    if holder is not None:
        raise ProfileError("twilio_account_sid", "belongs to another agency already")
    agency.twilio_account_sid = account_sid
    agency.twilio_auth_token = auth_token
    session.flush()


def clear_twilio_account(session: Session, agency: Agency) -> bool:
    """Go back to the deployment's Twilio account; False when the agency had none."""
    had = agency.twilio_account_sid is not None
    agency.twilio_account_sid = None
    agency.twilio_auth_token = None
    session.flush()
    return had


def describe(session: Session, agency: Agency) -> dict[str, Any]:
    """The agency's settings as the API and the command show them: never the token."""
    return {
        "agency": agency.slug,
        **{field: getattr(agency, field) for field in PROFILE_FIELDS},
        "twilio_account": (
            None
            if agency.twilio_account_sid is None
            else {"account_sid": agency.twilio_account_sid, "auth_token": "set, not shown"}
        ),
        "senders": [sender_json(sender) for sender in list_senders(session, agency)],
    }


def sender_json(sender: AgencySender) -> dict[str, Any]:
    """A sender as the API and the command show it."""
    return {
        "id": sender.id,
        "channel": sender.channel,
        "address": sender.address,
        "service": sender.service,
        "label": sender.label,
        "default": sender.is_default,
    }
