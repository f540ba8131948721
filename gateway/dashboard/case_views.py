"""The dashboard's case inbox and case pages: every agency's cases, worked by its staff.

Viewers read, without the respondents' words, as on the comments pages; analysts and
admins read everything and act (roles in :mod:`gateway.dashboard.roles`). Each
action is a form POST (with the session's CSRF token) that changes the case through
:mod:`gateway.cases.work` and comes back to the case page; a refused change shows why
and changes nothing. Another agency's case is 404, as an unknown one is.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from gateway.agencies import audit
from gateway.cases import documents, due, figures, inbox, opening, replies, work
from gateway.dashboard import reads, roles
from gateway.dashboard.charts import bar_chart
from gateway.flows.model import CASE_PRIORITIES, CHANNELS
from gateway.flows.registry import FlowRegistry
from gateway.store.case_models import CASE_STATUSES
from gateway.store.db import db_of
from gateway.store.models import Survey, utcnow
from gateway.store.results_models import StaffMember
from gateway.surveys.flow_versions import flow_for_version_id
from gateway.surveys.input_policy import check_date

#: What each action form may change (the rest of a change set is the action's own).
ACTIONS = ("assign", "status", "priority", "note", "link", "reply")


def _agency_id() -> int:
    agency_id: int = g.agency.id
    return agency_id


def cases_page() -> ResponseReturnValue:
    args = request.args
    try:
        filters = inbox.check(
            inbox.Filters(
                view=args.get("view", "open"),
                flow=args.get("flow") or None,
                office=args.get("office") or None,
                priority=args.get("priority") or None,
                channel=args.get("channel") or None,
            ),
            CHANNELS,
        )
        now = utcnow()
        with reads.reading() as session:
            rows, cursor = inbox.page(
                session, _agency_id(), g.staff.id, filters, now, after=args.get("cursor") or None
            )
            emails = documents.assignees(session, rows)
            counts = inbox.counts(session, _agency_id(), g.staff.id, now)
            offices = inbox.offices(session, _agency_id())
    except inbox.FilterError as exc:
        abort(400, f"This list cannot be shown: {exc.message}.")
    registry: FlowRegistry = current_app.extensions["flows"]
    flows = sorted(f.id for f in registry.flows.values() if f.agency == g.agency.slug)
    shown = {k: v for k, v in args.items() if k != "cursor" and v}
    return render_template(
        "dashboard/cases.html",
        title="Cases",
        rows=rows,
        emails=emails,
        cursor=cursor,
        counts=counts,
        filters=filters,
        args=shown,
        views=inbox.VIEWS,
        flows=flows,
        offices=offices,
        priorities=CASE_PRIORITIES,
        channels=CHANNELS,
        now=now,
    )


def case_page(case_id: str) -> ResponseReturnValue:
    with reads.reading() as session:
        case = work.find(session, _agency_id(), case_id)
        if case is None:
            abort(404, f"Your agency has no case {case_id[:40]!r}.")
        words = roles.reads_words(g.staff.role)
        document = documents.detail(session, case, words=words)
        zone = due.case_zone(work.flow_of(session, case))
        due_local = (
            f"{case.due_at.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"
            if zone.key != "UTC"
            else None
        )
        staff = list(
            session.execute(
                sa.select(StaffMember.id, StaffMember.email)
                .where(StaffMember.agency_id == _agency_id(), StaffMember.role != "viewer")
                .order_by(StaffMember.email)
            )
        )
    return render_template(
        "dashboard/case.html",
        title=f"Case {case_id}",
        case=document,
        staff_choices=staff,
        statuses=CASE_STATUSES,
        priorities=CASE_PRIORITIES,
        error=request.args.get("error"),
        words=words,
        due_local=due_local,
        overdue=document["status"] != "resolved" and document["due_at"] < _now_text(),
    )


def _now_text() -> str:
    return utcnow().isoformat().replace("+00:00", "Z")


def case_action(case_id: str, action: str) -> ResponseReturnValue:
    if action not in ACTIONS:
        abort(404)
    form = request.form
    changes: dict[str, object]
    if action == "assign":
        target = form.get("assignee", "")
        changes = {"assignee": g.staff.email if target == "me" else (target or None)}
    elif action == "status":
        resolution = form.get("resolution") or None
        changes = {"status": form.get("status", "")}
        if resolution is not None and changes["status"] == "resolved":
            changes["resolution"] = resolution
    else:
        changes = {action: form.get(action, "")}
    with db_of(current_app).session() as session:
        case = work.find(session, _agency_id(), case_id, lock=True)
        if case is None:
            abort(404, f"Your agency has no case {case_id[:40]!r}.")
        try:
            if action == "reply":
                template = form.get("template", "")
                replies.prepare(session, case, template, audit.request_actor(), utcnow())
                replies.queue_after_commit(current_app, session, case.id)
            else:
                work.apply_changes(session, case, changes, audit.request_actor(), utcnow())
        except work.CaseError as exc:
            session.rollback()
            return _back(case_id, exc.message)
    return _back(case_id, None)


def _back(case_id: str, error: str | None) -> Response:
    target = url_for("dashboard.case_page", case_id=case_id, error=error)
    return redirect(target + ("#case-error" if error else ""), code=303)


def open_case() -> ResponseReturnValue:
    survey_id = request.form.get("survey_id", "").strip()
    with db_of(current_app).session() as session:
        survey = session.get(Survey, survey_id) if survey_id else None
        if survey is None or survey.agency_id != _agency_id():
            abort(404, f"Your agency has no survey {survey_id[:40]!r}.")
        flow = flow_for_version_id(session, survey.flow_version_id)
        case, _ = opening.open_case(
            session, survey, flow, actor=audit.request_actor(), now=utcnow()
        )
        case_id = case.id
    return redirect(url_for("dashboard.case_page", case_id=case_id), code=303)


def _day(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return check_date(date.fromisoformat(raw), name)
    except ValueError:  # InputRefused included
        abort(400, f"The {name} date {raw!r} is not a date such as 2026-10-01.")


def figures_page() -> ResponseReturnValue:
    start, end = figures.interval(_day("from"), _day("to"), utcnow().date())
    if end <= start:
        abort(400, "The from date must not be after the to date.")
    with reads.reading() as session:
        found = figures.figures(session, _agency_id(), start, end)
    charts = {
        "resolution": bar_chart(
            "Mean hours to resolution by flow",
            [(r.key or "–", r.hours_to_resolution) for r in found.by_flow],
        ),
        "in_time": bar_chart(
            "Resolved in time by priority",
            [(r.key or "–", r.in_time_share) for r in found.by_priority],
            "%",
        ),
    }
    return render_template(
        "dashboard/case_figures.html",
        title="Case figures",
        found=found,
        charts=charts,
        shown={
            "from": start.date().isoformat(),
            "to": (end.date() - timedelta(days=1)).isoformat(),
        },
    )


def register(bp: Blueprint) -> None:
    """Add the case pages to the dashboard's blueprint."""
    bp.add_url_rule("/cases", view_func=cases_page, methods=["GET"])
    bp.add_url_rule("/cases/figures", view_func=figures_page, methods=["GET"])
    bp.add_url_rule("/cases", endpoint="open_case", view_func=open_case, methods=["POST"])
    bp.add_url_rule("/cases/<case_id>", view_func=case_page, methods=["GET"])
    bp.add_url_rule("/cases/<case_id>/<action>", view_func=case_action, methods=["POST"])
