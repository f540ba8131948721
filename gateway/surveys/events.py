"""Who hears that a survey completed.

The packages that act on a completion (:mod:`gateway.alerts` records its deliveries) sit
above the survey lifecycle, so the lifecycle does not call them: each registers a
listener once, when the app is built (:func:`gateway.app.create_app`, which the web app,
the worker and the CLI all use), and :func:`completed` calls every listener.
"""

from __future__ import annotations

from collections.abc import Callable

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
