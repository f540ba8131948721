"""What staff (or an agency's system) do to a case: assign it, change its status or
priority, resolve it with one of the agency's codes, reopen it, add a note, link it to
a related case. Every change is checked first (a :class:`CaseError` changes nothing) and
recorded in the case's history; assignments and status changes are announced as events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.cases import history, notices
from gateway.flows.model import CASE_PRIORITIES, Flow
from gateway.store.case_models import CASE_STATUSES, Case, CaseLink
from gateway.store.models import Survey
from gateway.store.results_models import StaffMember
from gateway.surveys.flow_versions import flow_for_version_id

MAX_NOTE = 5000
#: A case may be linked to this many others.
MAX_LINKS = 50


@dataclass
class CaseError(ValueError):
    """A change that cannot be made as asked; ``field`` names what to correct."""

    field: str
    message: str

    def __str__(self) -> str:
        return self.message


def flow_of(session: Session, case: Case) -> Flow:
    """The flow (as the survey ran it) of ``case``."""
    version_id = session.scalar(
        sa.select(Survey.flow_version_id).where(Survey.id == case.survey_id)
    )
    assert version_id is not None
    return flow_for_version_id(session, version_id)


def resolutions(flow: Flow) -> tuple[str, ...]:
    return flow.cases.resolutions if flow.cases else ("resolved",)


def find(session: Session, agency_id: int, case_id: str, *, lock: bool = False) -> Case | None:
    """The agency's case ``case_id``; None for another agency's or an unknown id."""
    query = sa.select(Case).where(Case.id == case_id, Case.agency_id == agency_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def staff_email(session: Session, staff_id: int | None) -> str | None:
    if staff_id is None:
        return None
    return session.scalar(sa.select(StaffMember.email).where(StaffMember.id == staff_id))


def staff_by_email(session: Session, agency_id: int, email: str) -> StaffMember:
    """The agency's staff member with ``email``; a CaseError for anyone else."""
    member = session.scalars(
        sa.select(StaffMember).where(
            StaffMember.email == email.strip().lower(), StaffMember.agency_id == agency_id
        )
    ).first()
    if member is None:
        raise CaseError("assignee", f"no staff member of your agency has the email {email!r}")
    if member.role == "viewer":
        raise CaseError("assignee", f"{email} is a viewer: assign the case to an analyst or admin")
    return member


def assign(
    session: Session, case: Case, member: StaffMember | None, actor: str, now: datetime
) -> bool:
    """Give ``case`` to ``member`` (None: to nobody); False when nothing changed."""
    new_id = member.id if member is not None else None
    if member is not None and member.agency_id != case.agency_id:
        raise CaseError("assignee", "that staff member is not of this case's agency")
    if case.assignee_id == new_id:
        return False
    case.assignee_id = new_id
    case.updated_at = now
    email = member.email if member is not None else None
    history.record(session, case, "assigned", actor, now, detail=email or "nobody")
    notices.announce(session, case, notices.CASE_ASSIGNED, email, now)
    return True


def change_status(
    session: Session,
    case: Case,
    status: str,
    resolution: str | None,
    actor: str,
    now: datetime,
) -> bool:
    """Move ``case`` to ``status``; ``resolved`` needs one of the flow's resolution codes,
    and leaving ``resolved`` reopens the case. False when nothing changed."""
    if status not in CASE_STATUSES:
        raise CaseError("status", f"status must be one of {', '.join(CASE_STATUSES)}")
    if status == "resolved":
        codes = resolutions(flow_of(session, case))
        if resolution not in codes:
            raise CaseError(
                "resolution", f"a resolved case needs a resolution, one of {', '.join(codes)}"
            )
    elif resolution is not None:
        raise CaseError("resolution", "a resolution is given only with the status resolved")
    if case.status == status and case.resolution == resolution:
        return False
    before = case.status
    if status == "resolved":
        case.resolved_at = now
        case.resolution = resolution
    elif before == "resolved":  # reopened: due again as long after now as it first was
        span = case.due_at - case.opened_at
        case.resolved_at = None
        case.resolution = None
        case.escalated_at = None
        case.due_at = max(case.due_at, now + span)
    case.status = status
    case.updated_at = now
    detail = f"{before} -> {status}" + (f" ({resolution})" if resolution else "")
    if before == "resolved":
        detail = f"reopened: {detail}"
    history.record(session, case, "status", actor, now, detail=detail)
    notices.announce(
        session,
        case,
        notices.CASE_STATUS,
        staff_email(session, case.assignee_id),
        now,
        previous_status=before,
    )
    return True


def change_priority(session: Session, case: Case, priority: str, actor: str, now: datetime) -> bool:
    if priority not in CASE_PRIORITIES:
        raise CaseError("priority", f"priority must be one of {', '.join(CASE_PRIORITIES)}")
    if case.priority == priority:
        return False
    history.record(
        session, case, "status", actor, now, detail=f"priority {case.priority} -> {priority}"
    )
    case.priority = priority
    case.updated_at = now
    return True


def add_note(session: Session, case: Case, text: str, actor: str, now: datetime) -> None:
    text = text.strip()
    if not text:
        raise CaseError("note", "the note is empty")
    if len(text) > MAX_NOTE:
        raise CaseError("note", f"a note is at most {MAX_NOTE} characters")
    history.record(session, case, "note", actor, now, body=text)
    case.updated_at = now


def link(session: Session, case: Case, other_id: str, actor: str, now: datetime) -> bool:
    """Link ``case`` and the agency's case ``other_id`` both ways; False when linked already."""
    other = find(session, case.agency_id, other_id.strip())
    if other is None:
        raise CaseError("link", f"your agency has no case {other_id.strip()[:40]!r}")
    if other.id == case.id:
        raise CaseError("link", "a case cannot be linked to itself")
    if session.get(CaseLink, (case.id, other.id)) is not None:
        return False
    count = session.scalar(sa.select(sa.func.count()).where(CaseLink.case_id == case.id)) or 0
    if count >= MAX_LINKS:
        raise CaseError("link", f"a case may be linked to at most {MAX_LINKS} others")
    session.add_all(
        [
            CaseLink(case_id=case.id, linked_id=other.id, created_at=now),
            CaseLink(case_id=other.id, linked_id=case.id, created_at=now),
        ]
    )
    history.record(session, case, "link", actor, now, detail=other.id)
    history.record(session, other, "link", actor, now, detail=case.id)
    case.updated_at = other.updated_at = now
    return True


def linked_ids(session: Session, case_id: str) -> list[str]:
    return list(
        session.scalars(
            sa.select(CaseLink.linked_id)
            .where(CaseLink.case_id == case_id)
            .order_by(CaseLink.created_at)
        )
    )


#: The fields a change to a case may carry (the API's PATCH body).
CHANGE_FIELDS = ("status", "resolution", "assignee", "priority", "note", "link")


def apply_changes(
    session: Session, case: Case, changes: dict[str, object], actor: str, now: datetime
) -> list[str]:
    """Apply a change set (the fields of :data:`CHANGE_FIELDS`) to ``case``, each checked;
    the names of the fields that changed something. The caller rolls back on CaseError."""
    unknown = sorted(set(changes) - set(CHANGE_FIELDS))
    if unknown:
        raise CaseError(
            unknown[0], f"unknown field {unknown[0]!r}; fields are {', '.join(CHANGE_FIELDS)}"
        )
    if not changes:
        raise CaseError("body", f"give at least one of {', '.join(CHANGE_FIELDS)}")
    for name in ("status", "resolution", "priority", "note", "link"):
        value = changes.get(name)
        if (
            name in changes
            and not isinstance(value, str)
            and not (name == "resolution" and value is None)
        ):
            raise CaseError(name, f"{name} must be text")
    assignee = changes.get("assignee")
    if "assignee" in changes and assignee is not None and not isinstance(assignee, str):
        raise CaseError("assignee", "assignee must be a staff member's email, or null")
    if "resolution" in changes and "status" not in changes:
        raise CaseError("resolution", "give the resolution with the status resolved")
    changed: list[str] = []
    if "assignee" in changes:
        member = (
            staff_by_email(session, case.agency_id, assignee) if isinstance(assignee, str) else None
        )
        if assign(session, case, member, actor, now):
            changed.append("assignee")
    if "priority" in changes and change_priority(
        session, case, str(changes["priority"]), actor, now
    ):
        changed.append("priority")
    if "status" in changes:
        resolution = changes.get("resolution")
        if change_status(
            session,
            case,
            str(changes["status"]),
            resolution if isinstance(resolution, str) else None,
            actor,
            now,
        ):
            changed.append("status")
    if "note" in changes:
        add_note(session, case, str(changes["note"]), actor, now)
        changed.append("note")
    if "link" in changes and link(session, case, str(changes["link"]), actor, now):
        changed.append("link")
    return changed
