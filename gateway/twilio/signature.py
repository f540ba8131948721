"""Checking ``X-Twilio-Signature`` on every Twilio webhook.

Twilio signs each request with the account's auth token over the public URL it called and
the POST parameters. The gateway rebuilds that URL from ``PUBLIC_BASE_URL`` (behind a proxy
the request's own URL is an internal one) and checks the signature with the helper
library's algorithm (:class:`~twilio.request_validator.RequestValidator`: HMAC-SHA1 of the
URL followed by each parameter name and value, names sorted, accepted for the URL with or
without its default port), computed here with :mod:`hmac` so that the parameters are
joined once and the second URL is only tried when the first one fails.

Which token signs:

- the token of the agency's own Twilio account (a subaccount) when the webhook names a
  number or Messaging Service of an agency that has one (``To``, ``From`` or
  ``MessagingServiceSid``; :func:`gateway.agencies.routes.webhook_account`); a webhook
  naming senders of two agencies, or of an agency and the deployment's own number or
  Messaging Service (``TWILIO_PHONE_NUMBER``, ``TWILIO_MESSAGING_SERVICE_SID``), is
  refused;
- else ``TWILIO_AUTH_TOKEN`` when it is set;
- otherwise, outside production, :data:`DEVELOPMENT_AUTH_TOKEN`, a fixed, published token,
  so that simulated respondents (``gateway sms reply``, tests, curl scripts) can sign
  their requests exactly as Twilio would;
- in production without ``TWILIO_AUTH_TOKEN`` no token at all: every webhook is refused.

Each process reads the senders' owners and tokens in one query and keeps them for
:data:`OWNERS_TTL` seconds (:class:`OwnersCache`), so a webhook costs no extra round trip to
the database; a change made through this process's API is seen at once, one made
elsewhere (the command, another process) within that time.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import ParamSpec
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from config.settings import Settings
from gateway.agencies.routes import SENDER_FIELDS, Owners, deployment_senders, owners
from gateway.store.db import db_of
from gateway.surveys.input_policy import webhook_field

log = logging.getLogger(__name__)

#: Signs webhooks in development and tests when no TWILIO_AUTH_TOKEN is configured.
#: It is public knowledge, so it is never accepted in production.
DEVELOPMENT_AUTH_TOKEN = "gateway-development-auth-token"

P = ParamSpec("P")


def webhook_auth_token(settings: Settings) -> str | None:
    """The token webhooks are signed with, or None when none is acceptable."""
    if settings.twilio_auth_token:
        return settings.twilio_auth_token
    if settings.is_production:
        return None
    return DEVELOPMENT_AUTH_TOKEN


#: Seconds a process keeps the senders' owners before reading them again.
OWNERS_TTL = 5.0
_OWNERS = "webhook_owners"
_owners_lock = threading.Lock()


class OwnersCache:
    """The senders' owners (:func:`gateway.agencies.routes.owners`), read at most once
    every ``ttl`` seconds."""

    def __init__(self, engine: Engine, ttl: float = OWNERS_TTL) -> None:
        self.engine = engine
        self.ttl = ttl
        self._lock = threading.Lock()
        self._owners: Owners | None = None
        self._read_at = 0.0

    def get(self) -> Owners:
        with self._lock:
            now = time.monotonic()
            if self._owners is None or now - self._read_at >= self.ttl:
                with Session(self.engine) as session:
                    self._owners = owners(session)
                self._read_at = now
            return self._owners

    def forget(self) -> None:
        """Read the owners again on the next webhook (after a change)."""
        with self._lock:
            self._owners = None


def owners_of(app: Flask) -> OwnersCache:
    """The app's cache of the senders' owners."""
    cache: OwnersCache | None = app.extensions.get(_OWNERS)
    if cache is None:
        with _owners_lock:
            cache = app.extensions.setdefault(_OWNERS, OwnersCache(db_of(app).engine))
    return cache


def webhook_token(settings: Settings, known: Owners, form: MultiDict[str, str]) -> str | None:
    """The token a webhook with ``form`` must be signed with (see the module), or None
    when none is acceptable."""
    # Read as the webhooks read them, so the owner is that of the number routed to.
    named = {name: webhook_field(form.get(name, "")) for name in SENDER_FIELDS}
    owner = known.account(named, deployment_senders(settings))
    if owner.mixed:
        log.warning(
            "Twilio webhook refused: it names senders of %d agencies%s",
            len(owner.agencies),
            " and the deployment's own" if owner.deployment else "",
        )
        return None
    return owner.token or webhook_auth_token(settings)


def public_url(settings: Settings, req: Request) -> str:
    """The URL Twilio called: ``PUBLIC_BASE_URL`` + path + query, else the request's URL."""
    if not settings.public_base_url:
        return req.url
    return public_url_of(settings.public_base_url, req.path, req.query_string.decode("latin-1"))


def public_url_of(base: str, path: str, query: str) -> str:
    """The URL Twilio called for ``path`` and ``query`` under the public origin ``base``."""
    return base + path + (f"?{query}" if query else "")


def signature_for(token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio would send for a POST of ``params`` to ``url``."""
    return str(RequestValidator(token).compute_signature(url, dict(params)))


def _signed_params(params: MultiDict[str, str]) -> str:
    """The parameters as Twilio signs them: each name, sorted, followed by each of its
    distinct values, sorted."""
    return "".join(
        name + value
        for name in sorted(params.keys())
        for value in sorted(set(params.getlist(name)))
    )


def _other_port_form(url: str) -> str:
    """``url`` with its default port written out, or without it when it has one (Twilio
    signs either form, depending on how the webhook URL was configured)."""
    parts = urlsplit(url)
    if parts.port:
        return parts._replace(netloc=parts.netloc.split(":")[0]).geturl()
    port = 443 if parts.scheme == "https" else 80
    return parts._replace(netloc=f"{parts.netloc}:{port}").geturl()


def _matches(token: bytes, url: str, params: str, signature: bytes) -> bool:
    digest = hmac.new(token, (url + params).encode("utf-8"), hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(digest), signature)


def signature_matches(token: str, url: str, params: MultiDict[str, str], signature: str) -> bool:
    """Whether ``signature`` (the ``X-Twilio-Signature`` header) is Twilio's for a POST of
    ``params`` to ``url`` signed with ``token``."""
    if not signature:
        return False
    try:
        expected = signature.encode("ascii")
    except UnicodeEncodeError:
        return False
    key, signed = token.encode("utf-8"), _signed_params(params)
    return _matches(key, url, signed, expected) or _matches(
        key, _other_port_form(url), signed, expected
    )


def signature_is_valid(settings: Settings, req: Request, known: Owners) -> bool:
    token = webhook_token(settings, known, req.form)
    if token is None:
        log.error("Twilio webhook refused: no token is acceptable for it")
        return False
    signature = req.headers.get("X-Twilio-Signature", "")
    return signature_matches(token, public_url(settings, req), req.form, signature)


def require_twilio_signature(
    view: Callable[P, ResponseReturnValue],
) -> Callable[P, ResponseReturnValue]:
    """Refuse (403, nothing done) a request whose Twilio signature is missing or wrong."""

    @functools.wraps(view)
    def checked(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        settings: Settings = current_app.extensions["settings"]
        known = owners_of(current_app).get()
        if not signature_is_valid(settings, request, known):
            log.warning("Twilio webhook %s refused: bad or missing signature", request.path)
            return Response("invalid Twilio signature\n", status=403, mimetype="text/plain")
        return view(*args, **kwargs)

    return checked
