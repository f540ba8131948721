"""The crisis route: a comment read as crisis language reaches the agency at once.

:func:`comment_in_crisis` hears every crisis reading
(:func:`gateway.surveys.comment_arrival.on_crisis`), in the transaction that stores it, and

- records a ``comment.crisis`` delivery to the flow's ``comments.crisis`` webhook and email,
  queued right after the commit and sent by the alerts' own delivery path (signed webhook
  body, retries, the outbound address checks);
- opens the survey's case at ``urgent`` priority, due ``comments.crisis.due`` hours after
  it opens (:data:`gateway.flows.model.CRISIS_DUE_HOURS` by default), or raises its open
  case to ``urgent`` and brings its due time forward to that, through the case opener the
  app hands in (:func:`init_app`); an overdue crisis case is escalated like any other.

The body carries the redacted comment and every matched phrase (why it was routed); the
respondent's contact is never in it. What the respondent is texted back is
:mod:`gateway.surveys.crisis_replies`'s.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.alerts.rules import CRISIS_EVENT, dispatch_after_commit
from gateway.flows.model import CRISIS_DUE_HOURS, CaseRule, Flow
from gateway.store.comment_models import CommentReading
from gateway.store.models import Answer, Survey, utcnow
from gateway.store.results_models import Delivery
from gateway.surveys import comment_arrival

log = logging.getLogger(__name__)

#: The deliveries' ``rule`` (the alert emails' subject names it); their event is
#: :data:`gateway.alerts.rules.CRISIS_EVENT`.
CRISIS_RULE = "crisis"
#: The priority of the case a crisis opens.
CRISIS_PRIORITY = "urgent"
#: Who opened it, in the case's history.
CRISIS_ACTOR = "rule:crisis"

#: ``open_case(session, survey, flow, *, actor, now, priority, case_rule)`` -> (case,
#: opened now).
OpenCase = Callable[..., tuple[Any, bool]]

_wiring: dict[str, OpenCase] = {}


def crisis_body(survey: Survey, reading: CommentReading, comment: str, at: datetime) -> str:
    """The JSON body of a ``comment.crisis`` event (compact, stable order)."""
    body = {
        "event": CRISIS_EVENT,
        "flow": survey.flow_id,
        "survey_id": survey.id,
        "channel": survey.channel,
        "language": survey.language,
        "question": reading.question_id,
        "comment": comment,
        "categories": list(dict.fromkeys(r["category"] for r in reading.crisis_reasons)),
        "reasons": reading.crisis_reasons,
        "context": survey.context or {},
        "detected_at": at.isoformat().replace("+00:00", "Z"),
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def comment_in_crisis(
    session: Session, survey: Survey, flow: Flow, reading: CommentReading
) -> None:
    """Fire the flow's crisis route for ``reading`` (once per reading)."""
    if reading.crisis_routed_at is not None:
        return
    now = utcnow()
    reading.crisis_routed_at = now
    route = flow.comments.crisis if flow.comments is not None else None
    open_case = _wiring.get("open_case")
    if open_case is not None:
        hours = route.due_hours if route is not None else CRISIS_DUE_HOURS
        rule = CaseRule(priority=CRISIS_PRIORITY, due_business_days=None, due_hours=hours)
        case, opened = open_case(
            session,
            survey,
            flow,
            actor=CRISIS_ACTOR,
            now=now,
            priority=CRISIS_PRIORITY,
            case_rule=rule,
        )
        if not opened:
            _raise(case, now, now + timedelta(hours=hours))
    deliveries: list[Delivery] = []
    if route is not None and (route.webhook or route.email):
        comment = session.scalar(
            sa.select(Answer.value).where(
                Answer.survey_id == survey.id, Answer.question_id == reading.question_id
            )
        )
        if not isinstance(comment, str) or comment.startswith(("http://", "https://")):
            comment = ""  # a recording's address is no comment; the reasons say what was heard
        body = crisis_body(survey, reading, comment, now)
        for kind, target in (("webhook", route.webhook), ("email", route.email)):
            if target:
                deliveries.append(
                    Delivery(
                        agency_id=survey.agency_id,
                        survey_id=survey.id,
                        flow_id=survey.flow_id,
                        event=CRISIS_EVENT,
                        rule=CRISIS_RULE,
                        kind=kind,
                        target=target,
                        body=body,
                        status="pending",
                        attempts=0,
                    )
                )
        session.add_all(deliveries)
        session.flush()
        dispatch_after_commit(session, survey.id, [d.id for d in deliveries])


def _raise(case: Any, now: datetime, due: datetime) -> None:
    """An open case a crisis reaches: ``urgent``, and due no later than ``due``."""
    changed = False
    if case.priority != CRISIS_PRIORITY:
        case.priority = CRISIS_PRIORITY
        changed = True
    if case.due_at > due:
        case.due_at = due
        changed = True
    if changed:
        case.updated_at = now


def init_app(open_case: OpenCase | None) -> None:
    """Hear every crisis reading from now on; ``open_case`` opens the survey's case (the
    cases' opener, handed in by the app: the cases sit above the alerts)."""
    if open_case is not None:
        _wiring["open_case"] = open_case
    comment_arrival.on_crisis(comment_in_crisis)
