"""The baseline for the webhook benchmarks: bare Flask endpoints that parse the same form and
answer with the same kind of TwiML, with no signature check and no database.

``app`` serves both ``POST /twilio/sms`` and ``POST /twilio/voice[/...]``;
``create_bare_app()`` builds it again for a gunicorn factory spec.
"""

from __future__ import annotations

from flask import Flask, Response, request
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse


def create_bare_app() -> Flask:
    bare = Flask(__name__)

    @bare.post("/twilio/sms")
    def inbound() -> Response:
        form = request.form
        if not form.get("MessageSid") or not form.get("From"):
            return Response("MessageSid and From are required\n", status=400)
        twiml = MessagingResponse()
        twiml.message(f"Question two. Reply 1 to 5. ({len(form.get('Body', ''))})")
        return Response(str(twiml), mimetype="application/xml")

    @bare.post("/twilio/voice")
    @bare.post("/twilio/voice/<path:step>")
    def voice(step: str = "") -> Response:
        form = request.form
        if not form.get("CallSid"):
            return Response("CallSid is required\n", status=400)
        twiml = VoiceResponse()
        gather = twiml.gather(
            action=f"/twilio/voice/gather?survey={request.args.get('survey', '')}&step=1",
            method="POST",
            num_digits=1,
            timeout=5,
            action_on_empty_result=False,
        )
        gather.say(
            f"How satisfied were you with the service today? ({form.get('Digits', '')})",
            voice="Polly.Joanna",
            language="en-US",
        )
        twiml.redirect(f"/twilio/voice/no-input?step={step}", method="POST")
        return Response(str(twiml), mimetype="text/xml")

    return bare


app = create_bare_app()
