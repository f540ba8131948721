"""Twilio's SMS webhooks: inbound messages (``POST /twilio/sms``) and delivery status
callbacks (``POST /twilio/sms/status``). Both are signed; see :mod:`gateway.twilio.signature`."""

from __future__ import annotations

import logging
from datetime import datetime
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Response, current_app, request
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from werkzeug.datastructures import MultiDict

from config.settings import Settings
from gateway.services import queue
from gateway.sms import early_statuses
from gateway.sms.inbound import InboundSms, ReplyOptions, handle_inbound
from gateway.sms.quick_reply import quick_reply
from gateway.store.db import db_of
from gateway.store.models import utcnow
from gateway.surveys.input_policy import MAX_QUERY_VALUE, clean_reply
from gateway.surveys.links import survey_link_of
from gateway.surveys.messages import SIMULATED
from gateway.twilio import quick_lane
from gateway.twilio.signature import require_twilio_signature

log = logging.getLogger(__name__)

PREFIX = "/twilio/sms"
bp = Blueprint("twilio_sms", __name__, url_prefix=PREFIX)


_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def twiml_messages(texts: list[str]) -> str:
    """The TwiML answering with ``texts``, character for character what the helper
    library's ``MessagingResponse`` writes for plain ``<Message>`` elements (tested
    against it), without building and serializing an element tree per webhook."""
    if not texts:
        return _XML_DECLARATION + "<Response />"
    messages = "".join(f"<Message>{escape(text)}</Message>" for text in texts)
    return f"{_XML_DECLARATION}<Response>{messages}</Response>"


#: The media type of the TwiML answering a text.
TWIML = "application/xml"


def _twiml(texts: list[str]) -> Response:
    return Response(twiml_messages(texts), mimetype=TWIML)


def _field(name: str) -> str | None:
    return _value(request.form, name)


def _value(form: MultiDict[str, str], name: str) -> str | None:
    value = clean_reply(form.get(name, ""), MAX_QUERY_VALUE).strip()
    return value or None


def _bad_request(message: str) -> Response:
    return Response(message + "\n", status=400, mimetype="text/plain")


def _inbound_sms(form: MultiDict[str, str]) -> InboundSms | None:
    """The text a webhook's form describes; None without ``MessageSid`` or ``From``."""
    sid = _value(form, "MessageSid") or _value(form, "SmsSid")
    from_ = _value(form, "From")
    if not sid or not from_:
        return None
    return InboundSms(
        sid=sid, from_=from_, to=_value(form, "To") or "", body=clean_reply(form.get("Body", ""))
    )


def _reply_status(settings: Settings) -> str:
    return "sent" if settings.twilio_configured else SIMULATED


def _quick_texts(app: Flask, sms: InboundSms, now: datetime) -> list[str] | None:
    """The texts answering ``sms`` when it is the common case, stored
    (:mod:`gateway.sms.quick_reply`); None, nothing written, otherwise."""
    settings: Settings = app.extensions["settings"]
    return quick_reply(
        db_of(app).engine,
        app.extensions["flows"],
        sid=sms.sid,
        from_=sms.from_,
        to=sms.to,
        body=sms.body,
        now=now,
        max_reprompts=settings.max_reprompts,
        reply_status=_reply_status(settings),
    )


def quick_inbound(
    app: Flask, _args: MultiDict[str, str], form: MultiDict[str, str]
) -> quick_lane.Answer | None:
    """:func:`inbound`'s common case, for the quick lane."""
    sms = _inbound_sms(form)
    texts = None if sms is None else _quick_texts(app, sms, utcnow())
    return None if texts is None else quick_lane.Answer(200, twiml_messages(texts), TWIML)


#: The SMS webhooks the quick lane serves (:func:`gateway.twilio.quick_lane.install`).
QUICK_ROUTES: dict[str, quick_lane.Handler] = {PREFIX: quick_inbound}


@bp.post("")
@require_twilio_signature
def inbound() -> ResponseReturnValue:
    """An inbound text: answer it with TwiML in the same request."""
    sms = _inbound_sms(request.form)
    if sms is None:
        return _bad_request("MessageSid and From are required")
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    settings: Settings = app.extensions["settings"]
    now = utcnow()
    if not quick_lane.declined(request.environ):
        quick = _quick_texts(app, sms, now)
        if quick is not None:
            return _twiml(quick)
    options = ReplyOptions(
        now=now,
        max_reprompts=settings.max_reprompts,
        reply_status=_reply_status(settings),
        sender=settings.twilio_messaging_service_sid or settings.twilio_phone_number,
        survey_link=survey_link_of(app),
    )
    with db_of(app).session() as session:
        texts = handle_inbound(session, app.extensions["flows"], sms, options)
    return _twiml(texts)


@bp.post("/status")
@require_twilio_signature
def status() -> ResponseReturnValue:
    """A delivery status for a text the gateway sent; one for a text not yet recorded
    sent (a chunk's texts are recorded once the chunk is sent) is kept and applied when it
    is (:mod:`gateway.sms.early_statuses`)."""
    sid = _field("MessageSid") or _field("SmsSid")
    new_status = _field("MessageStatus") or _field("SmsStatus")
    if not sid or not new_status:
        return _bad_request("MessageSid and MessageStatus are required")
    with db_of(current_app).session() as session:
        outcome = early_statuses.apply_or_keep(
            session,
            sid=sid,
            status=new_status.lower(),
            error_code=_field("ErrorCode"),
            now=utcnow(),
            max_attempts=queue.MAX_SEND_ATTEMPTS,
        )
    if not outcome.found:
        log.info("status %s for message %s kept until it is recorded sent", new_status, sid)
    if outcome.resend_survey_id is not None:
        queue.enqueue_send(current_app, outcome.resend_survey_id)
    if outcome.start_survey_id is not None:  # undeliverable: the flow's call fallback
        try:
            queue.enqueue_start(current_app, outcome.start_survey_id, None)
        except RedisError:  # committed as queued: the sweeper starts it
            log.warning(
                "survey %s: call fallback not queued (Redis unavailable)",
                outcome.start_survey_id,
            )
    return Response(status=204)
