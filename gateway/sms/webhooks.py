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
from gateway.agencies import routes
from gateway.services import queue
from gateway.sms import early_statuses
from gateway.sms.inbound import InboundSms, handle_inbound, reply_options
from gateway.sms.quick_reply import quick_reply
from gateway.store.db import db_of
from gateway.store.models import utcnow
from gateway.surveys.delivery_statuses import STATUS_RANK
from gateway.surveys.input_policy import (
    MAX_ERROR_CODE,
    InputRefused,
    clean_reply,
    provider_id,
    webhook_field,
)
from gateway.surveys.links import survey_link_of
from gateway.surveys.messages import SIMULATED
from gateway.twilio import quick_lane
from gateway.twilio.signature import (
    owners_of,
    require_twilio_signature,
    webhook_auth_token,
    webhook_token,
)

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
    return webhook_field(form.get(name, "")) or None


def _bad_request(message: str) -> Response:
    return Response(message + "\n", status=400, mimetype="text/plain")


def _inbound_sms(form: MultiDict[str, str]) -> InboundSms | None:
    """The text a webhook's form describes; None without ``MessageSid`` or ``From``, or
    with a sid longer than any the store keeps."""
    sid = _value(form, "MessageSid") or _value(form, "SmsSid")
    from_ = _value(form, "From")
    if not sid or not from_:
        return None
    try:
        sid = provider_id(sid, "MessageSid")
    except InputRefused:
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
        deployment_number=settings.twilio_phone_number,
        deployment_service=settings.twilio_messaging_service_sid,
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
        return _bad_request("MessageSid (a message sid) and From are required")
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    settings: Settings = app.extensions["settings"]
    now = utcnow()
    if not quick_lane.declined(request.environ):
        quick = _quick_texts(app, sms, now)
        if quick is not None:
            return _twiml(quick)
    options = reply_options(
        settings, now=now, reply_status=_reply_status(settings), survey_link=survey_link_of(app)
    )
    with db_of(app).session() as session:
        texts = handle_inbound(session, app.extensions["flows"], sms, options)
    return _twiml(texts)


@bp.post("/status")
@require_twilio_signature
def status() -> ResponseReturnValue:
    """A delivery status for a text the gateway sent, signed by the account that sent it;
    one for a text not yet recorded sent (a chunk's texts are recorded once the chunk is
    sent) is kept and applied when it is (:mod:`gateway.sms.early_statuses`)."""
    sid = _field("MessageSid") or _field("SmsSid")
    new_status = _field("MessageStatus") or _field("SmsStatus")
    if not sid or not new_status:
        return _bad_request("MessageSid and MessageStatus are required")
    try:
        sid = provider_id(sid, "MessageSid")
        error_code = provider_id(_field("ErrorCode") or "", "ErrorCode", MAX_ERROR_CODE) or None
    except InputRefused as exc:
        return _bad_request(exc.message)
    if new_status.lower() not in STATUS_RANK:  # no message status: nothing to apply or keep
        log.info("status %r for message %s ignored: not a message status", new_status[:32], sid)
        return Response(status=204)
    settings: Settings = current_app.extensions["settings"]
    # The account named by the form signed it; it must also be the one that sent the text
    # (when some agency has an account of its own: else every text is the deployment's).
    known = owners_of(current_app).get()
    signed_with = webhook_token(settings, known, request.form)
    with db_of(current_app).session() as session:
        if known.token_of and not routes.sent_with(
            session, sid, signed_with, webhook_auth_token(settings)
        ):
            log.warning("status for message %s refused: signed by another account", sid)
            return Response("invalid Twilio signature\n", status=403, mimetype="text/plain")
        outcome = early_statuses.apply_or_keep(
            session,
            sid=sid,
            status=new_status.lower(),
            error_code=error_code,
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
