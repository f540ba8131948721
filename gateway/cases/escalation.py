"""Escalation: a case past its due time, unassigned or unresolved, is emailed to its team
(or, with no team address, to the agency's admins) and announced as a ``case.overdue``
event, once per due time; and each team gets a daily digest of its cases due.

Both run at the end of every sweep (:mod:`gateway.sending.sweeper`). Each is claimed in
the database before its email goes out (``escalated_at``, a ``case_digests`` row) and
the claim is undone when the email fails, so the next sweep tries again and two workers
never both send it.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from channels.base import DeliveryError
from channels.email import OutgoingEmail
from gateway.cases import history, notices
from gateway.cases.work import staff_email
from gateway.flows.registry import FlowRegistry
from gateway.services.providers import providers_of
from gateway.store.case_models import OPEN_CASE_STATUSES, Case, CaseDigest
from gateway.store.db import db_of
from gateway.store.models import Agency
from gateway.store.results_models import StaffMember

log = logging.getLogger(__name__)

#: Overdue cases escalated per sweep, at most.
BATCH: Final = 100
#: The UTC hour from which the day's digests go out (7 or 8 in the morning, Eastern).
DIGEST_HOUR: Final = 12
#: Cases listed in one digest, at most (the rest are counted).
DIGEST_LIMIT: Final = 100


@dataclass(frozen=True)
class Escalation:
    case_id: str
    to: tuple[str, ...]
    subject: str
    text: str


def _registry(app: Flask) -> FlowRegistry:
    registry: FlowRegistry = app.extensions["flows"]
    return registry


def recipients(session: Session, registry: FlowRegistry, case: Case) -> tuple[str, ...]:
    """The team's address when its flow names one, else the agency's admins."""
    flow = registry.get(case.flow_id)
    team_email = flow.cases.team_email(case.team) if flow is not None and flow.cases else None
    if team_email is not None:
        return (team_email,)
    return tuple(
        session.scalars(
            sa.select(StaffMember.email)
            .where(StaffMember.agency_id == case.agency_id, StaffMember.role == "admin")
            .order_by(StaffMember.email)
        )
    )


def _reason(case: Case) -> str:
    return "unassigned" if case.assignee_id is None else "unresolved"


def claim_overdue(app: Flask, now: datetime) -> list[Escalation]:
    """Mark the overdue cases escalated (history, event) and return the emails to send."""
    registry = _registry(app)
    found: list[Escalation] = []
    with db_of(app).session() as session:
        cases = list(
            session.scalars(
                sa.select(Case)
                .where(
                    Case.status.in_(OPEN_CASE_STATUSES),
                    Case.due_at <= now,
                    Case.escalated_at.is_(None),
                )
                .order_by(Case.due_at)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        for case in cases:
            case.escalated_at = now
            reason = _reason(case)
            history.record(session, case, "escalated", "system", now, detail=f"overdue, {reason}")
            assignee = staff_email(session, case.assignee_id)
            notices.announce(session, case, notices.CASE_OVERDUE, assignee, now, reason=reason)
            to = recipients(session, registry, case)
            if not to:
                continue
            due = case.due_at.strftime("%Y-%m-%d %H:%M UTC")
            found.append(
                Escalation(
                    case_id=case.id,
                    to=to,
                    subject=f"Overdue case {case.id} ({case.priority}, {reason})",
                    text=(
                        f"The case {case.id} of the flow {case.flow_id} was due {due} and is "
                        f"{reason}.\n\nPriority: {case.priority}\nStatus: {case.status}\n"
                        f"Assigned to: {assignee or 'nobody'}\nOffice: {case.office or '-'}\n\n"
                        f"Open it in the dashboard: /dashboard/cases/{case.id}\n"
                    ),
                )
            )
    return found


def _send(app: Flask, to: tuple[str, ...], subject: str, text: str) -> bool:
    sender = providers_of(app).email
    try:
        for address in to:
            sender.send(
                OutgoingEmail(
                    to=address, subject=subject, text=text, html=f"<pre>{html.escape(text)}</pre>"
                )
            )
    except DeliveryError as exc:
        log.warning("case email not sent (%s)", exc.code)  # the code only: no address
        return False
    return True


def escalate_overdue(app: Flask, now: datetime) -> list[str]:
    """Escalate the overdue cases; the ids whose email went out."""
    sent: list[str] = []
    for escalation in claim_overdue(app, now):
        if _send(app, escalation.to, escalation.subject, escalation.text):
            sent.append(escalation.case_id)
            continue
        with db_of(app).session() as session:  # the next sweep tries again
            session.execute(
                sa.update(Case).where(Case.id == escalation.case_id).values(escalated_at=None)
            )
    return sent


def _teams(registry: FlowRegistry) -> dict[tuple[str, str], str]:
    """(agency slug, team) to the team's address, from the loaded flows."""
    teams: dict[tuple[str, str], str] = {}
    for flow in registry.flows.values():
        for name, address in flow.cases.teams if flow.cases else ():
            teams.setdefault((flow.agency, name), address)
    return teams


def send_digests(app: Flask, now: datetime) -> list[tuple[str, str]]:
    """Each team's digest of its open cases due by the end of tomorrow (UTC), once a day
    from :data:`DIGEST_HOUR`; the (agency, team) pairs sent."""
    if now.hour < DIGEST_HOUR:
        return []
    today = now.date()
    horizon = datetime.combine(today + timedelta(days=2), time(), UTC)
    sent: list[tuple[str, str]] = []
    for (slug, team), address in sorted(_teams(_registry(app)).items()):
        with db_of(app).session() as session:
            agency_id = session.scalar(sa.select(Agency.id).where(Agency.slug == slug))
            if agency_id is None:
                continue
            done = session.scalar(
                sa.select(CaseDigest.id).where(
                    CaseDigest.agency_id == agency_id,
                    CaseDigest.team == team,
                    CaseDigest.day == today,
                )
            )
            if done is not None:
                continue
            where = (
                Case.agency_id == agency_id,
                Case.team == team,
                Case.status.in_(OPEN_CASE_STATUSES),
                Case.due_at < horizon,
            )
            cases = list(
                session.scalars(
                    sa.select(Case).where(*where).order_by(Case.due_at).limit(DIGEST_LIMIT)
                )
            )
            total = session.scalar(sa.select(sa.func.count()).where(*where)) or 0
            try:
                with session.begin_nested():
                    digest = CaseDigest(agency_id=agency_id, team=team, day=today, sent_at=now)
                    session.add(digest)
                    session.flush()
            except IntegrityError:
                continue  # another worker sends it
            digest_id = digest.id
        text = _digest_text(team, today.isoformat(), cases, total, now)
        if _send(app, (address,), f"Cases due for {team}: {total}", text):
            sent.append((slug, team))
            continue
        with db_of(app).session() as session:
            session.execute(sa.delete(CaseDigest).where(CaseDigest.id == digest_id))
    return sent


def _digest_text(team: str, day: str, cases: list[Case], total: int, now: datetime) -> str:
    if not cases:
        return f"No open case of the team {team} is due by the end of tomorrow ({day}).\n"
    lines = [f"Open cases of the team {team} due by the end of tomorrow, as of {day}:", ""]
    for case in cases:
        late = " (overdue)" if case.due_at <= now else ""
        lines.append(
            f"- {case.id}: due {case.due_at.strftime('%Y-%m-%d %H:%M')} UTC{late}, "
            f"{case.priority}, {case.status}, {case.flow_id}, office {case.office or '-'}"
        )
    if total > len(cases):
        lines.append(f"... and {total - len(cases)} more.")
    return "\n".join(lines) + "\n"


def sweep_step(app: Flask, now: datetime) -> None:
    """The sweeper's part: escalations first, then the day's digests."""
    escalate_overdue(app, now)
    send_digests(app, now)
