"""The SMS channel: Twilio's SMS webhooks, what an inbound text does, the quick reply
path and delivery statuses."""
