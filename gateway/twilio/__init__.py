"""Twilio's webhooks as a transport: the signature check every webhook passes, and the
quick lane that answers the common ones before Flask. What a webhook does lives with its
channel (:mod:`gateway.sms.webhooks`, :mod:`gateway.voice.webhooks`)."""
