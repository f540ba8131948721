"""What the app wires for cases: the completion listener that opens them, the late-reply
listener that takes a respondent's answer into their case, the desk of the page where an
email respondent writes back, and the sweeper's steps that send waiting replies and
escalate overdue cases."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from gateway.cases import escalation, opening, replies
from gateway.sending import sweeper
from gateway.surveys import events
from gateway.web import reply_pages


def _sweep_step(app: Flask, now: datetime) -> None:
    replies.due_cases(app, now)
    escalation.sweep_step(app, now)


def init_app(app: Flask) -> None:
    reply_pages.serve(app, replies.DESK)
    # The listeners are process-wide, as the alerts' are.
    opening.init_app()
    events.on_late_reply(replies.take_answer)
    sweeper.on_sweep(_sweep_step)
