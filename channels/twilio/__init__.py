"""Twilio, the SMS and voice provider: its REST client, its error codes, its SMS sender,
its call placer and the TwiML a call step is spoken with.

Everything that knows Twilio's API or vocabulary lives here; the Protocols and value types
these adapters implement are the provider-neutral ones of :mod:`channels.base`,
:mod:`channels.sms` and :mod:`channels.voice`.
"""
