"""A case's history: every change recorded as a :class:`CaseEvent`, with who made it.

The first thing staff (or an agency's system) do to a case sets its ``first_action_at``,
which the figures count time to first action from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gateway.store.case_models import Case, CaseEvent

#: Actors that are not staff acting on the case: their entries are not a first action.
SYSTEM_ACTORS = ("respondent",)
#: What an ``actor`` of a case's opening by an alert rule starts with.
RULE_ACTOR = "rule:"


def record(
    session: Session,
    case: Case,
    kind: str,
    actor: str,
    now: datetime,
    *,
    detail: str | None = None,
    body: str | None = None,
    message_id: int | None = None,
) -> CaseEvent:
    """Add one entry to ``case``'s history; a staff action is the case's first action
    when it has none yet."""
    event = CaseEvent(
        case_id=case.id,
        agency_id=case.agency_id,
        at=now,
        actor=actor,
        kind=kind,
        detail=detail[:500] if detail else None,
        body=body,
        message_id=message_id,
    )
    session.add(event)
    acted = kind not in ("opened", "escalated", "answer") and not is_system(actor)
    if acted and case.first_action_at is None:
        case.first_action_at = now
    return event


def is_system(actor: str) -> bool:
    return actor in SYSTEM_ACTORS or actor.startswith(RULE_ACTOR) or actor == "system"
