"""Which account and which sender an agency's texts and calls use, and which account
signs a webhook.

- A survey texts from the sender its flow names (``sender:``), else its agency's default
  SMS sender, else the deployment's (``TWILIO_MESSAGING_SERVICE_SID``, else
  ``TWILIO_PHONE_NUMBER``); it calls from its agency's default voice number, else
  ``TWILIO_PHONE_NUMBER``. The sender is recorded on the survey (``Survey.sender``).
- It goes through its agency's own Twilio account when it has one and registered the
  sender (:func:`own_account`), else the deployment's (``TWILIO_ACCOUNT_SID``), else
  simulated delivery: the deployment's own number is never sent from through an agency's
  account, which does not hold it.
- A webhook is signed by the account that owns the number it names (``To``, ``From``,
  ``MessagingServiceSid``): the agency's own, or the deployment's when the number is
  the deployment's or an agency's without an account of its own. One naming numbers of
  two owners (two agencies, or an agency and the deployment) has no signer.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config.settings import Settings
from gateway.agencies.senders import default_sender, owned_address
from gateway.services.providers import TwilioRoute
from gateway.store.agency_models import AgencySender
from gateway.store.models import Agency, Message, Survey

log = logging.getLogger(__name__)

#: The form fields of a Twilio webhook that may name one of the gateway's senders.
SENDER_FIELDS = ("To", "From", "MessagingServiceSid")


def deployment_sms_sender(settings: Settings) -> str | None:
    """What the deployment texts from: its Messaging Service, else its phone number."""
    return settings.twilio_messaging_service_sid or settings.twilio_phone_number


def deployment_senders(settings: Settings) -> tuple[str, ...]:
    """The deployment's own senders: ``TWILIO_PHONE_NUMBER`` and
    ``TWILIO_MESSAGING_SERVICE_SID``, those set."""
    return tuple(
        address
        for address in (settings.twilio_phone_number, settings.twilio_messaging_service_sid)
        if address
    )


def sms_sender_for(
    session: Session, agency_id: int, flow_sender: str | None, settings: Settings
) -> str | None:
    """The sender a survey of the agency texts from: the flow's ``sender:`` when the
    agency still owns it (else its default, logged), the agency's default, else the
    deployment's."""
    if flow_sender is not None:
        if owned_address(session, agency_id, "sms", flow_sender) is not None:
            return flow_sender
        log.warning(
            "agency %s no longer owns the SMS sender a flow names; its default is used",
            agency_id,
        )
    chosen = default_sender(session, agency_id, "sms")
    return chosen.address if chosen is not None else deployment_sms_sender(settings)


def voice_sender_for(
    session: Session, agency_id: int, flow_sender: str | None, settings: Settings
) -> str | None:
    """The number a survey call of the agency is placed from (as :func:`sms_sender_for`)."""
    if flow_sender is not None and owned_address(session, agency_id, "voice", flow_sender):
        return flow_sender
    chosen = default_sender(session, agency_id, "voice")
    return chosen.address if chosen is not None else settings.twilio_phone_number


def own_account(session: Session, agency_id: int, sender: str | None) -> Agency | None:
    """The agency, when its own Twilio account sends from ``sender``: it has one, and
    registered ``sender``. A sender it did not register (the deployment's, which its flows
    fall back to) is the deployment's account's to send from."""
    agency = session.get(Agency, agency_id)
    if agency is None or not (agency.twilio_account_sid and agency.twilio_auth_token):
        return None
    if sender is None:
        return None
    held = session.scalar(
        sa.select(AgencySender.id)
        .where(AgencySender.agency_id == agency_id, AgencySender.address == sender)
        .limit(1)
    )
    return agency if held is not None else None


def route_for(
    session: Session, agency_id: int, sender: str | None, settings: Settings
) -> TwilioRoute | None:
    """The account and sender to send through; None for the deployment's own provider
    (its Twilio account from its own sender, or simulated delivery)."""
    agency = own_account(session, agency_id, sender)
    if agency is not None and agency.twilio_account_sid and agency.twilio_auth_token and sender:
        return TwilioRoute(agency.twilio_account_sid, agency.twilio_auth_token, sender)
    if not settings.twilio_configured or sender is None:
        return None
    if sender in (settings.twilio_messaging_service_sid, settings.twilio_phone_number):
        return None
    return TwilioRoute(settings.twilio_account_sid or "", settings.twilio_auth_token or "", sender)


@dataclass(frozen=True)
class WebhookAccount:
    """Who owns the numbers a webhook names: the agencies (none: the deployment) and the
    token of the owner's own account (None: the deployment's token). ``deployment``: it
    also names the deployment's own number or Messaging Service, which no agency
    registered."""

    agencies: frozenset[int]
    token: str | None
    deployment: bool = False

    @property
    def mixed(self) -> bool:
        """It names senders of more than one owner: no one token may sign it."""
        return len(self.agencies) + self.deployment > 1


@dataclass(frozen=True)
class Owners:
    """Every registered sender's agency, and the auth token of each agency with its own
    Twilio account: what signs a webhook, read in one query (:func:`owners`)."""

    agency_of: Mapping[str, int]
    token_of: Mapping[int, str]

    def account(self, form: Mapping[str, str], deployment: Collection[str] = ()) -> WebhookAccount:
        """The owner of the senders ``form`` names (see :data:`SENDER_FIELDS`);
        ``deployment``: the deployment's own senders (``TWILIO_PHONE_NUMBER``,
        ``TWILIO_MESSAGING_SERVICE_SID``), its own where no agency registered them."""
        named = [form.get(name, "") for name in SENDER_FIELDS]
        agencies = frozenset(self.agency_of[a] for a in named if a in self.agency_of)
        of_deployment = any(a in deployment and a not in self.agency_of for a in named if a)
        if len(agencies) != 1:
            return WebhookAccount(agencies, None, of_deployment)
        return WebhookAccount(agencies, self.token_of.get(next(iter(agencies))), of_deployment)


def owners(session: Session) -> Owners:
    """The registered senders' owners, and their tokens (opened), as they are now."""
    rows = session.execute(sa.select(AgencySender.address, AgencySender.agency_id)).all()
    tokens = session.execute(
        sa.select(Agency.id, Agency.twilio_auth_token).where(Agency.twilio_auth_token.is_not(None))
    ).all()
    return Owners(
        {address: agency_id for address, agency_id in rows},
        {agency_id: token for agency_id, token in tokens if token},
    )


def webhook_account(
    session: Session, form: Mapping[str, str], deployment: Collection[str] = ()
) -> WebhookAccount:
    """The owner of the senders ``form`` names, read now."""
    return owners(session).account(form, deployment)


def sent_with(
    session: Session, provider_sid: str, token: str | None, deployment_token: str | None
) -> bool:
    """Whether a status callback for the text ``provider_sid``, signed with ``token``, is
    signed by the account that sent the text: its agency's own, else the deployment's
    (``deployment_token``). True for a sid no text was recorded with (yet)."""
    sent = session.execute(
        sa.select(Survey.agency_id, Message.from_addr, Survey.sender)
        .join(Message, Message.survey_id == Survey.id)
        .where(Message.provider_sid == provider_sid)
    ).first()
    if sent is None:
        return True
    # The text's own sender (the survey's may have moved on, to a call's number).
    agency = own_account(session, sent.agency_id, sent.from_addr or sent.sender)
    expected = agency.twilio_auth_token if agency is not None else deployment_token
    return expected is not None and token is not None and hmac.compare_digest(expected, token)


def serves_unregistered(
    session: Session, to: str, phone_number: str | None, service_sid: str | None
) -> bool:
    """Whether a text or call to ``to``, a number no agency registered, is the
    deployment's (whose ``TWILIO_PHONE_NUMBER`` and ``TWILIO_MESSAGING_SERVICE_SID`` are
    given): always when no agency registered any sender (one deployment serving one
    agency), else only when ``to`` is the phone number or the deployment texts from a
    Messaging Service (whose pool the gateway does not know)."""
    if service_sid or (phone_number is not None and to == phone_number):
        return True
    return not registered_any(session)


def registered_any(session: Session) -> bool:
    """Whether any agency registered a sender."""
    return session.scalar(sa.select(AgencySender.id).limit(1)) is not None
