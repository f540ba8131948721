"""The delivery providers: the SMS sender, the call placer and the email sender.

Each is chosen from the settings (Twilio when its credentials are set, SMTP when
``SMTP_URL`` is, otherwise the simulated one that records what it would have sent) and
built once per app, on first use: the clients hold pooled connections, and a simulated
provider's record is what the simulator and the tests read back. A provider is built
only when it is used, so a deployment that never places calls needs no number to call
from.

An agency with senders or a Twilio account of its own (:mod:`gateway.agencies.routes`)
sends through a :class:`TwilioRoute`: the account and the number or Messaging Service to
send from. Each route's sender is built once too, on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask

from channels.base import SmsSender
from channels.email import EmailSender, email_sender
from channels.sms import SimulatedSms
from channels.twilio.sms import TwilioSms
from channels.twilio.voice import TwilioCalls
from channels.voice import CallPlacer, SimulatedCalls
from config.settings import Settings

_KEY = "providers"
_P = TypeVar("_P")
_lock = threading.Lock()


@dataclass(frozen=True)
class TwilioRoute:
    """A Twilio account and what to send from: an E.164 number, or a Messaging Service SID
    (``MG...``, texts only)."""

    account_sid: str
    auth_token: str = field(repr=False)
    sender: str

    @property
    def is_service(self) -> bool:
        return self.sender.startswith("MG")


class Providers:
    """The providers one app sends through, each made from ``settings`` when first asked."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._made: dict[str, Any] = {}

    @property
    def sms(self) -> SmsSender:
        """Twilio's Messages API when its credentials are set, else simulated texts."""
        return self._once("sms", _sms_sender)

    @property
    def calls(self) -> CallPlacer:
        """Twilio's Calls API when its credentials are set, else simulated calls."""
        return self._once("calls", _call_placer)

    @property
    def email(self) -> EmailSender:
        """SMTP when ``SMTP_URL`` is set, else simulated email."""
        return self._once("email", _email_sender)

    def sms_via(self, route: TwilioRoute | None) -> SmsSender:
        """The SMS sender of ``route``; :attr:`sms` for None (the deployment's own)."""
        if route is None:
            return self.sms
        return self._once(_route_key("sms", route), lambda settings: _route_sms(settings, route))

    def calls_via(self, route: TwilioRoute | None) -> CallPlacer:
        """The call placer of ``route``; :attr:`calls` for None (the deployment's own)."""
        if route is None:
            return self.calls
        return self._once(
            _route_key("calls", route), lambda settings: _route_calls(settings, route)
        )

    def _once(self, name: str, make: Callable[[Settings], _P]) -> _P:
        with self._lock:
            if name not in self._made:
                self._made[name] = make(self.settings)
            provider: _P = self._made[name]
            return provider


def providers_of(app: Flask) -> Providers:
    """The app's providers (made with the first call)."""
    providers: Providers | None = app.extensions.get(_KEY)
    if providers is None:
        with _lock:
            providers = app.extensions.setdefault(_KEY, Providers(app.extensions["settings"]))
    return providers


def _sms_sender(settings: Settings) -> SmsSender:
    if not settings.twilio_configured:
        return SimulatedSms()
    return TwilioSms(
        settings.twilio_account_sid or "",
        settings.twilio_auth_token or "",
        from_number=settings.twilio_phone_number,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        api_base_url=settings.twilio_api_base_url,
    )


def _call_placer(settings: Settings) -> CallPlacer:
    if not settings.twilio_configured:
        return SimulatedCalls()
    return TwilioCalls(
        settings.twilio_account_sid or "",
        settings.twilio_auth_token or "",
        from_number=settings.twilio_phone_number,
        api_base_url=settings.twilio_api_base_url,
    )


def _email_sender(settings: Settings) -> EmailSender:
    return email_sender(settings.smtp_url, settings.email_from)


def _route_key(kind: str, route: TwilioRoute) -> str:
    # The token is part of the key: a rotated token makes a new client.
    return f"{kind}:{route.account_sid}:{route.sender}:{hash(route.auth_token)}"


def _route_sms(settings: Settings, route: TwilioRoute) -> SmsSender:
    return TwilioSms(
        route.account_sid,
        route.auth_token,
        from_number=None if route.is_service else route.sender,
        messaging_service_sid=route.sender if route.is_service else None,
        api_base_url=settings.twilio_api_base_url,
    )


def _route_calls(settings: Settings, route: TwilioRoute) -> CallPlacer:
    if route.is_service:
        raise ValueError("a call is placed from a phone number, not a Messaging Service")
    return TwilioCalls(
        route.account_sid,
        route.auth_token,
        from_number=route.sender,
        api_base_url=settings.twilio_api_base_url,
    )
