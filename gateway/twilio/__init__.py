"""Twilio webhooks: signature checking and the SMS blueprint."""
