"""Who hears that a survey completed, and who is offered a text no open survey waits for.

The packages that act on a completion (:mod:`gateway.alerts` records its deliveries) sit
above the survey lifecycle, so the lifecycle does not call them: each registers a
listener once, when the app is built (:func:`gateway.app.create_app`, which the web app,
the worker and the CLI all use), and :func:`completed` calls every listener. A text from
a number that no open survey waits for is offered the same way to the late-reply
listeners (:func:`late_reply`): the cases take the answer to a reply staff sent
(:func:`gateway.cases.replies.take_answer`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from gateway.store.models import Survey

#: Called with the session and the survey, in the transaction that marks it completed.
CompletionListener = Callable[[Session, Survey], object]

_listeners: list[CompletionListener] = []


def on_completed(listener: CompletionListener) -> None:
    """Have ``listener`` called for every survey that completes from now on; registering
    the same listener again changes nothing (an app built twice in one process)."""
    if listener not in _listeners:
        _listeners.append(listener)


def completed(session: Session, survey: Survey) -> None:
    """Tell every listener that ``survey`` has just been marked completed."""
    for listener in tuple(_listeners):
        listener(session, survey)


@dataclass(frozen=True)
class LateReply:
    """A text from a number with no survey waiting for it: perhaps the answer to a
    message staff sent about a finished survey (:mod:`gateway.cases.replies`)."""

    sid: str
    from_: str
    to: str
    body: str
    now: datetime


#: Called in the inbound text's transaction; True when it took the text.
LateReplyListener = Callable[[Session, LateReply], bool]

_late_listeners: list[LateReplyListener] = []


def on_late_reply(listener: LateReplyListener) -> None:
    """Have ``listener`` offered every text that no open survey waits for."""
    if listener not in _late_listeners:
        _late_listeners.append(listener)


def late_reply(session: Session, reply: LateReply) -> bool:
    """Offer ``reply`` to each listener in turn; True once one takes it."""
    return any(listener(session, reply) for listener in tuple(_late_listeners))
