"""Twilio's call placer: outbound survey calls through the Calls API."""

from __future__ import annotations

from channels.twilio.client import delivery_errors, twilio_client
from channels.twilio.errors import PERMANENT_CALL_ERRORS
from channels.voice import PlacedCall


class TwilioCalls:
    """Places calls through Twilio's Calls API, with answering-machine detection on."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None,
        api_base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not from_number:
            raise ValueError("set TWILIO_PHONE_NUMBER to place survey calls with Twilio")
        # No StatusCallbackEvent: Twilio's default, the final "completed" callback, carries
        # the outcome (completed, busy, no-answer, failed, canceled), which is all the retry
        # policy reads.
        self._client = twilio_client(
            account_sid, auth_token, api_base_url=api_base_url, timeout=timeout
        )
        self._from_number = from_number

    def place(self, to: str, *, url: str, status_callback: str) -> PlacedCall:
        with delivery_errors(permanent=PERMANENT_CALL_ERRORS):
            call = self._client.calls.create(
                to=to,
                from_=self._from_number,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                machine_detection="Enable",
            )
        return PlacedCall(sid=str(call.sid), status=str(call.status or "queued"))
