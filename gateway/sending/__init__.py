"""The send path: starting surveys, claiming and sending texts in chunks, pacing and
quiet hours, and the due reminders and fallbacks."""
