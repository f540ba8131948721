"""Twilio's SMS sender: the Messages API, from a phone number or a Messaging Service."""

from __future__ import annotations

from datetime import datetime

from channels.base import SendResult
from channels.twilio.client import delivery_errors, twilio_client


class TwilioSms:
    """Sends SMS through Twilio's Messages API, from a phone number or a Messaging Service."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError(
                "set TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID to send SMS with Twilio"
            )
        self._client = twilio_client(
            account_sid, auth_token, api_base_url=api_base_url, timeout=timeout
        )
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid

    def send(self, to: str, body: str, *, status_callback: str | None) -> SendResult:
        sender: dict[str, str] = (
            {"messaging_service_sid": self._messaging_service_sid}
            if self._messaging_service_sid
            else {"from_": self._from_number or ""}
        )
        optional: dict[str, str] = {"status_callback": status_callback} if status_callback else {}
        with delivery_errors():
            message = self._client.messages.create(to=to, body=body, **sender, **optional)
        return SendResult(sid=str(message.sid), status=str(message.status or "queued"))

    def find_sent(self, to: str, body: str, *, since: datetime) -> SendResult | None:
        """The message with this body Twilio sent to ``to`` since ``since``, if any.

        Twilio's Messages list, filtered by recipient and ``DateSent>``; the body is
        compared here (the API cannot filter on it).
        """
        with delivery_errors():
            found = self._client.messages.list(to=to, date_sent_after=since, limit=50)
        for message in found:
            if message.body == body:
                return SendResult(sid=str(message.sid), status=str(message.status or "sent"))
        return None
