"""The phone keypad channel: Twilio Voice webhooks, each call step and its TwiML,
inbound transfers, placed calls, recordings and concurrent-call slots."""
