"""The baseline for bench/sms_inbound.py: a bare Flask endpoint that parses the same form
and answers with the same kind of TwiML, with no signature check and no database."""

from __future__ import annotations

from flask import Flask, Response, request
from twilio.twiml.messaging_response import MessagingResponse

app = Flask(__name__)


@app.post("/twilio/sms")
def inbound() -> Response:
    form = request.form
    if not form.get("MessageSid") or not form.get("From"):
        return Response("MessageSid and From are required\n", status=400)
    twiml = MessagingResponse()
    twiml.message(f"Question two. Reply 1 to 5. ({len(form.get('Body', ''))})")
    return Response(str(twiml), mimetype="application/xml")
