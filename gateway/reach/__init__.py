"""Reaching the right people: interactions counted, sampling and quotas, survey windows
(and the contact plan of reminders and fallback channels). See docs/reach.md."""
