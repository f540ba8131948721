"""The dashboard's themes of a flow's comments: over time and by office (chart and
tables), the comments behind each count, and staff's corrections of a comment's themes.

Counts are open to viewers (they show no one's words); the comments and corrections to
analysts (roles in :mod:`gateway.dashboard.roles`). A correction is a form POST with the
session's CSRF token; it is recorded with who made it and counted on the themes page.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from gateway.agencies import audit
from gateway.comments.taxonomy import Taxonomy
from gateway.dashboard.charts import bar_chart
from gateway.flows.model import Flow
from gateway.reports.themes import NO_OFFICE, theme_comments, theme_figures, week_of
from gateway.store.comment_models import CommentReading
from gateway.store.db import db_of
from gateway.store.models import utcnow
from gateway.surveys import comment_arrival
from gateway.surveys.comment_readings import CorrectionRefused, correct_themes

#: Without dates, the themes page shows this many weeks up to today.
DEFAULT_WEEKS = 12


@dataclass(frozen=True)
class _Helpers:
    """The dashboard's own helpers, handed in by :func:`register`."""

    flow_of: Callable[[str], Flow]
    reading: Callable[[], AbstractContextManager[Session]]
    day: Callable[[str], date | None]


_helpers: list[_Helpers] = []


def _flow(flow_id: str) -> Flow:
    return _helpers[-1].flow_of(flow_id)


def _reading() -> AbstractContextManager[Session]:
    return _helpers[-1].reading()


def _day(name: str) -> date | None:
    return _helpers[-1].day(name)


def _taxonomy() -> Taxonomy | None:
    return getattr(comment_arrival.current_reader(), "taxonomy", None)


def _labels() -> dict[str, str]:
    taxonomy = _taxonomy()
    if taxonomy is None:
        return {}
    return {theme.id: theme.label("en") for theme in taxonomy.themes}


def _interval() -> tuple[datetime, datetime, dict[str, str]]:
    last = _day("to") or datetime.now(UTC).date()
    first = _day("from") or week_of(datetime.combine(last, time(), UTC)) - timedelta(
        weeks=DEFAULT_WEEKS - 1
    )
    if first > last:
        abort(400, "The from date must not be after the to date.")
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(last + timedelta(days=1), time(), UTC)
    return start, end, {"from": first.isoformat(), "to": last.isoformat()}


def themes_page(flow_id: str) -> ResponseReturnValue:
    flow = _flow(flow_id)
    start, end, shown = _interval()
    with _reading() as session:
        figures = theme_figures(session, g.agency.id, flow.id, start, end)
    labels = _labels()
    themes = sorted(figures.totals, key=lambda t: (-figures.totals[t], t))
    chart = bar_chart("Comments by theme", [(labels.get(t, t), figures.totals[t]) for t in themes])
    return render_template(
        "dashboard/themes.html",
        flow=flow,
        title=f"Themes: {flow.id}",
        figures=figures,
        themes=themes,
        labels=labels,
        totals_chart=chart,
        args=shown,
    )


def theme_comments_page(flow_id: str) -> ResponseReturnValue:
    flow = _flow(flow_id)
    start, end, shown = _interval()
    theme = request.args.get("theme") or None
    office = request.args.get("office") or None
    week = _day("week")
    if week is not None:  # one week of the chart's table
        start = max(start, datetime.combine(week, time(), UTC))
        end = min(end, datetime.combine(week + timedelta(days=7), time(), UTC))
    raw_page = request.args.get("page", "0")
    if not raw_page.isdigit() or len(raw_page) > 5:
        abort(400, "The page must be a whole number.")
    page = int(raw_page)
    with _reading() as session:
        rows, more = theme_comments(
            session, g.agency.id, flow.id, start, end, theme=theme, office=office, page=page
        )
    args = {**shown, **{k: v for k, v in request.args.items() if k in ("theme", "office", "week")}}
    return render_template(
        "dashboard/theme_comments.html",
        flow=flow,
        title=f"Comments by theme: {flow.id}",
        rows=rows,
        more=more,
        page=page,
        theme=theme,
        office=office,
        week=week,
        args=args,
        labels=_labels(),
        no_office=NO_OFFICE,
    )


def correct_comment_themes(reading_id: str) -> ResponseReturnValue:
    taxonomy = _taxonomy()
    known = list(taxonomy.ids) if taxonomy is not None else []
    chosen = request.form.getlist("theme")
    back = request.form.get("next", "")
    with db_of(current_app).session() as session:
        found = int(reading_id) if reading_id.isdigit() and len(reading_id) < 19 else None
        reading = session.get(CommentReading, found) if found is not None else None
        if reading is None or reading.agency_id != g.agency.id:
            abort(404, "There is no such comment for your agency.")
        try:
            correct_themes(reading, chosen, known, actor=audit.request_actor(), now=utcnow())
        except CorrectionRefused as exc:
            abort(400, f"The themes were not changed: {exc}.")
        audit.record(
            session,
            "comment.themes_corrected",
            actor=audit.request_actor(),
            agency_id=g.agency.id,
            target=f"{reading.survey_id}/{reading.question_id}",
        )
        flow_id = reading.flow_id
    if not back.startswith("/dashboard/"):
        back = url_for("dashboard.theme_comments_page", flow_id=flow_id)
    return redirect(back, code=303)


def register(
    bp: Blueprint,
    *,
    flow_of: Callable[[str], Flow],
    reading: Callable[[], AbstractContextManager[Session]],
    day: Callable[[str], date | None],
) -> None:
    """Add the pages to the dashboard's blueprint; its helpers (the agency's flow, a
    read session with the statement timeout, a date argument) are handed in."""
    _helpers.append(_Helpers(flow_of, reading, day))
    bp.add_url_rule("/flows/<flow_id>/themes", view_func=themes_page)
    bp.add_url_rule("/flows/<flow_id>/themes/comments", view_func=theme_comments_page)
    bp.add_url_rule(
        "/comments/<reading_id>/themes", view_func=correct_comment_themes, methods=["POST"]
    )
