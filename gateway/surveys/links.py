"""Signed links and form tokens for the web survey and the email channel.

Every link names one survey and is signed with ``SECRET_KEY`` under a salt of its own
purpose, so a token made for one purpose (say, unsubscribing) is refused for another
(answering). A link carries its survey's expiry time and is refused after it; the survey's
own status is checked again where the link is used. A reply link (the page where an email
respondent writes back to a reply about their case) expires with the reply's answer
window instead.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from flask import Flask, has_request_context, request
from itsdangerous import BadSignature, Signer, URLSafeSerializer

from config.settings import Settings
from gateway.store.models import Survey

log = logging.getLogger(__name__)

Purpose = Literal["survey", "answer", "unsubscribe", "reply"]

SALTS: dict[str, str] = {
    "survey": "gateway.web.survey-link",
    "answer": "gateway.email.one-click-answer",
    "unsubscribe": "gateway.email.unsubscribe",
    "reply": "gateway.cases.reply-page",
    "csrf": "gateway.web.csrf",
}

#: Unsubscribe links keep working this long after their survey closes: people unsubscribe
#: from old emails, and mail providers expect the link to work for weeks.
UNSUBSCRIBE_GRACE = timedelta(days=60)


class LinkError(Exception):
    """A link that cannot be used: ``reason`` is "invalid" (tampered, wrong purpose,
    malformed) or "expired"."""

    def __init__(self, reason: Literal["invalid", "expired"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Link:
    """What a verified link says: the survey, and for answer links the question and value."""

    survey_id: str
    expires_at: datetime | None
    question_id: str | None = None
    value: str | None = None


class LinkSigner:
    """Makes and checks the signed tokens of one secret key."""

    def __init__(self, secret_key: str) -> None:
        self._secret_key = secret_key
        self._serializers = {
            purpose: URLSafeSerializer(secret_key, salt=salt) for purpose, salt in SALTS.items()
        }

    def make(
        self,
        purpose: Purpose,
        survey_id: str,
        expires_at: datetime | None,
        *,
        question_id: str | None = None,
        value: str | None = None,
    ) -> str:
        payload: dict[str, Any] = {"s": survey_id}
        if expires_at is not None:
            if purpose == "unsubscribe":
                expires_at = expires_at + UNSUBSCRIBE_GRACE
            payload["e"] = int(expires_at.timestamp())
        if question_id is not None:
            payload["q"] = question_id
            payload["v"] = value
        return str(self._serializers[purpose].dumps(payload))

    def read(self, purpose: Purpose, token: str, now: datetime | None = None) -> Link:
        """The link a token stands for; :class:`LinkError` when tampered or expired."""
        try:
            payload = self._serializers[purpose].loads(token)
        except BadSignature as exc:
            raise LinkError("invalid") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("s"), str):
            raise LinkError("invalid")
        expires = payload.get("e")
        expires_at = datetime.fromtimestamp(expires, UTC) if isinstance(expires, int) else None
        if expires_at is not None and (now or datetime.now(UTC)) >= expires_at:
            raise LinkError("expired")
        question_id = payload.get("q")
        value = payload.get("v")
        return Link(
            survey_id=payload["s"],
            expires_at=expires_at,
            question_id=question_id if isinstance(question_id, str) else None,
            value=value if isinstance(value, str) else None,
        )

    def csrf_token(self, survey_id: str) -> str:
        """The form token of one survey: every POST about that survey must carry it."""
        return Signer(self._secret_key, salt=SALTS["csrf"]).get_signature(survey_id).decode()

    def csrf_valid(self, survey_id: str, token: str | None) -> bool:
        if not token:
            return False
        return hmac.compare_digest(self.csrf_token(survey_id), token)


def base_url(settings: Settings) -> str:
    """The origin links point at: ``PUBLIC_BASE_URL``, else the current request's."""
    if settings.public_base_url:
        return settings.public_base_url
    if has_request_context():
        return request.host_url.rstrip("/")
    log.warning("PUBLIC_BASE_URL is not set: email links point at http://127.0.0.1:5000")
    return "http://127.0.0.1:5000"


def survey_url(links: LinkSigner, base: str, survey: Survey) -> str:
    return f"{base}/s/{links.make('survey', survey.id, survey.expires_at)}"


def reply_url(links: LinkSigner, base: str, survey_id: str, expires_at: datetime) -> str:
    """The page where the respondent of ``survey_id`` writes back to a reply about their
    case, until ``expires_at``."""
    return f"{base}/r/{links.make('reply', survey_id, expires_at)}"


def survey_link_of(app: Flask) -> Callable[[Survey], str]:
    """Makes a survey's web link as the email does (:func:`survey_url`), for the text that
    hands an SMS survey off to the web pages."""

    def link(survey: Survey) -> str:
        return survey_url(links_of(app), base_url(app.extensions["settings"]), survey)

    return link


def links_of(app: Flask) -> LinkSigner:
    signer: LinkSigner | None = app.extensions.get("web_links")
    if signer is None:
        signer = LinkSigner(app.extensions["settings"].secret_key)
        app.extensions["web_links"] = signer
    return signer
