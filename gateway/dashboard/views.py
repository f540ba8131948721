"""The staff dashboard under ``/dashboard``: sign-in, the agency's flows, one flow's results,
its comments and the alert deliveries. Every query is scoped to the signed-in agency."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from gateway.agencies import audit
from gateway.dashboard import (
    auth,
    case_views,
    oidc,
    queries,
    reads,
    roles,
    sessions,
    theme_views,
)
from gateway.dashboard.charts import bar_chart
from gateway.flows.model import CHANNELS, Flow
from gateway.flows.registry import FlowRegistry
from gateway.reach import attempt_rates
from gateway.reports.queries import resolve_flow
from gateway.store.db import db_of
from gateway.store.models import Agency, FlowVersion
from gateway.store.results_models import Delivery, StaffMember
from gateway.surveys.input_policy import InputRefused, check_date, check_fields, whole_number

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
)

case_views.register(bp)

PUBLIC_ENDPOINTS = ("dashboard.login", "dashboard.static")
DELIVERIES_SHOWN = 100
#: The last page of comments one may ask for (a million comments at fifty a page).
MAX_PAGE = 20_000


@bp.before_request
def _require_staff() -> ResponseReturnValue | None:
    try:  # every query, form and path value, once, before any view or query reads one
        check_fields(request.args.items(multi=True))
        check_fields(request.form.items(multi=True))
        check_fields((name, str(value)) for name, value in (request.view_args or {}).items())
    except InputRefused as exc:
        abort(400, f"This page cannot be shown: {exc.message}.")
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    staff_id = sessions.signed_in_id()
    if staff_id is not None:
        with db_of(current_app).session() as session:
            member = session.get(StaffMember, staff_id)
            if member is not None and sessions.still_valid(member):
                agency = session.get(Agency, member.agency_id)
                session.expunge_all()
                g.staff, g.agency = member, agency
    if getattr(g, "staff", None) is None:
        sessions.sign_out()
        return redirect(url_for("dashboard.login", next=request.full_path))
    if not roles.may_open(g.staff.role, request.endpoint):
        abort(403, "Your role does not include this page; ask an administrator of your agency.")
    if request.method == "POST":
        auth.check_csrf(request.form.get("csrf_token"))
    return None


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return {
        "csrf_token": auth.csrf_token,
        "oidc_enabled": oidc.enabled(current_app),
        "may_open": lambda endpoint: (
            getattr(g, "staff", None) is not None and roles.may_open(g.staff.role, endpoint)
        ),
        "staff": getattr(g, "staff", None),
        "agency": getattr(g, "agency", None),
    }


@bp.errorhandler(HTTPException)
def _error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    return render_template("dashboard/error.html", error=error, title=error.name), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    error = None
    status = 200
    if request.method == "POST":
        auth.check_csrf(request.form.get("csrf_token"))
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        with db_of(current_app).session() as session:
            member = auth.authenticate(session, email, password)
            if member is not None:
                sessions.sign_in(member)
                return redirect(_safe_next(request.args.get("next")))
        error = (
            "The email or password is incorrect. After "
            f"{auth.MAX_FAILED_SIGN_INS} failed attempts in a row, sign-in from this "
            f"address is held for {auth.LOCKOUT.seconds // 60} minutes."
        )
        status = 401
    return render_template("dashboard/login.html", error=error, title="Sign in"), status


def _safe_next(target: str | None) -> str:
    """Only a path inside the dashboard: never another site."""
    if target and target.startswith("/dashboard") and not target.startswith("//"):
        return target
    return url_for("dashboard.index")


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    with db_of(current_app).session() as session:
        member = session.get(StaffMember, auth.current_staff().id)
        if member is not None:
            sessions.end_all(member)  # a copy of this cookie is refused from now on
        audit.record(
            session,
            "staff.signed_out",
            actor=audit.staff_actor(auth.current_staff().email),
            agency_id=_agency().id,
        )
    sessions.sign_out()
    return redirect(url_for("dashboard.login"))


_reading = reads.reading


def _agency() -> Agency:
    agency: Agency = g.agency
    return agency


def _flow(flow_id: str) -> Flow:
    """The signed-in agency's flow; another agency's or an unknown one is 404."""
    registry: FlowRegistry = current_app.extensions["flows"]
    with _reading() as session:
        flow = resolve_flow(registry, session, _agency().slug, flow_id)
    if flow is None:
        abort(404, f"There is no flow {flow_id!r} for your agency.")
    return flow


@bp.get("/")
def index() -> ResponseReturnValue:
    agency = _agency()
    registry: FlowRegistry = current_app.extensions["flows"]
    flows = {f.id: f for f in registry.flows.values() if f.agency == agency.slug}
    with _reading() as session:
        older = session.scalars(
            sa.select(FlowVersion.flow_id)
            .where(FlowVersion.agency_slug == agency.slug)
            .group_by(FlowVersion.flow_id)
        )
        retired = sorted(set(older) - set(flows))
    listed = sorted(flows.values(), key=lambda f: f.id)
    return render_template(
        "dashboard/index.html", flows=listed, retired=retired, title="Your flows"
    )


def _date(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return check_date(date.fromisoformat(raw), name)
    except ValueError:  # InputRefused included: a year no survey was or will be taken in
        abort(400, f"The {name} date {raw!r} is not a date such as 2026-10-01.")


#: Without a date range, pages show this many days up to the flow's newest survey.
DEFAULT_DAYS = 90


def _filters(agency_id: int, flow_id: str) -> tuple[queries.Filters, dict[str, str]]:
    """The filters asked for, and the form's values (the default date range filled in)."""
    start, end = _date("from"), _date("to")
    shown = request.args.to_dict()
    if start is None and end is None:
        with _reading() as session:
            end = queries.latest_day(session, agency_id, flow_id)
        if end is not None:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
            shown.update({"from": start.isoformat(), "to": end.isoformat()})
    channel = request.args.get("channel") or None
    if channel is not None and channel not in CHANNELS:
        abort(400, f"The channel must be one of {', '.join(CHANNELS)}.")
    filters = queries.Filters(
        start=datetime.combine(start, time(), UTC) if start else None,
        end=datetime.combine(end + timedelta(days=1), time(), UTC) if end else None,
        channel=channel,
        language=request.args.get("language") or None,
        location=request.args.get("location") or None,
    )
    return filters, shown


@bp.get("/flows/<flow_id>")
def flow_page(flow_id: str) -> ResponseReturnValue:
    flow = _flow(flow_id)
    agency = _agency()
    filters, shown = _filters(agency.id, flow.id)
    clauses = queries.filter_clauses(agency.id, flow.id, filters)
    with _reading() as session:
        cells = queries.activity(session, clauses)
        counts = queries.closed_answer_counts(session, flow, clauses, filters)
        breakdowns = queries.breakdowns(session, flow, clauses, filters)
        choices = queries.filter_choices(session, agency.id, flow.id, filters)
        attempt_rows = attempt_rates.by_attempt(session, clauses)
    timeline = queries.over_time(cells)
    funnel = queries.funnel(cells)
    drivers = queries.driver_scores(flow, counts)
    distributions = queries.distributions(flow, counts)
    charts = {
        "timeline": bar_chart(
            "Respondents over time", [(row["period"], row["responded"]) for row in timeline]
        ),
        "funnel": bar_chart(
            "Response rate by channel", [(r["channel"], r["response_rate"]) for r in funnel], "%"
        ),
        "drivers": bar_chart(
            "Positive answers by driver", [(d["driver"], d["positive"]) for d in drivers], "%"
        ),
        "attempts": bar_chart(
            "Response rate by attempt",
            [(f"{r.label} · {r.channel}", r.response_rate) for r in attempt_rows],
            "%",
        ),
        "questions": {
            d["question"].id: bar_chart(f"Answers to {d['question'].id}", d["rows"])
            for d in distributions
        },
    }
    return render_template(
        "dashboard/flow.html",
        flow=flow,
        title=f"Results: {flow.id}",
        filters=filters,
        args=shown,
        choices=choices,
        channels=CHANNELS,
        timeline=timeline,
        funnel=funnel,
        attempt_rows=attempt_rows,
        drivers=drivers,
        distributions=distributions,
        breakdowns=breakdowns,
        charts=charts,
    )


@bp.get("/flows/<flow_id>/comments")
def comments_page(flow_id: str) -> ResponseReturnValue:
    flow = _flow(flow_id)
    filters, shown = _filters(_agency().id, flow.id)
    search = request.args.get("q", "").strip() or None
    raw_page = request.args.get("page", "0")
    try:
        page = whole_number(raw_page, "page", 0, MAX_PAGE)
    except InputRefused:
        abort(400, f"The page must be a whole number from 0 to {MAX_PAGE}.")
    clauses = queries.filter_clauses(_agency().id, flow.id, filters)
    with _reading() as session:
        rows, more = queries.comments(session, flow, clauses, search, page)
        choices = queries.filter_choices(session, _agency().id, flow.id, filters)
    return render_template(
        "dashboard/comments.html",
        flow=flow,
        title=f"Comments: {flow.id}",
        rows=rows,
        more=more,
        page=page,
        search=search or "",
        args=shown,
        choices=choices,
        channels=CHANNELS,
    )


@bp.get("/deliveries")
def deliveries_page() -> ResponseReturnValue:
    with _reading() as session:
        rows = list(
            session.scalars(
                sa.select(Delivery)
                .where(Delivery.agency_id == _agency().id)
                .options(selectinload(Delivery.attempt_log))
                .order_by(Delivery.id.desc())
                .limit(DELIVERIES_SHOWN)
            )
        )
    return render_template("dashboard/deliveries.html", rows=rows, title="Alert deliveries")


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.register_blueprint(bp)
    oidc.init_app(app)


theme_views.register(bp, flow_of=_flow, reading=_reading, day=_date)
