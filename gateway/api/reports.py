"""``GET /api/v1/reports/a11``: a flow's A-11 Section 280 figures for a fiscal quarter.

``format=json`` (default) gives the collection figures per channel (and the driver
counts of a seven-driver flow); ``format=csv`` gives the submission CSV of a v2 flow, or
the legacy aggregate template of a seven-driver flow.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from gateway.api.auth import current_agency
from gateway.exports.streams import started
from gateway.flows.model import Flow
from gateway.flows.registry import FlowRegistry
from gateway.http.errors import ApiError
from gateway.reports.a11 import report_kind
from gateway.reports.fiscal import MAX_FISCAL_YEAR, MIN_FISCAL_YEAR, FiscalQuarter
from gateway.reports.queries import resolve_flow
from gateway.reports.report import a11_report, likert_csv, submission_csv
from gateway.store.db import db_of
from gateway.store.slow_reads import reading
from gateway.surveys.input_policy import InputRefused, whole_number

bp = Blueprint("reports", __name__)


def _bad(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message, {"field": field})


def _integer(name: str, low: int, high: int, example: str) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        raise _bad(name, f"{name} is required, e.g. {name}={example}")
    try:
        return whole_number(raw, name, low, high)
    except InputRefused as exc:
        message = f"{name} must be a whole number from {low} to {high}, not {raw!r}"
        raise _bad(name, message) from exc


def _quarter() -> FiscalQuarter:
    year = _integer("fiscal_year", MIN_FISCAL_YEAR, MAX_FISCAL_YEAR, "2027")
    quarter = _integer("quarter", 1, 4, "1")
    return FiscalQuarter(year, quarter)


def _flow(agency_slug: str) -> Flow:
    flow_id = request.args.get("flow")
    if not flow_id:
        raise _bad("flow", "flow is required: the id of the flow to report on")
    registry: FlowRegistry = current_app.extensions["flows"]
    with reading(db_of(current_app)) as session:
        flow = resolve_flow(registry, session, agency_slug, flow_id)
    if flow is None:
        raise ApiError(404, "flow_not_found", f"no flow {flow_id!r} for agency {agency_slug!r}")
    return flow


@bp.get("/reports/a11")
def a11() -> ResponseReturnValue:
    agency = current_agency()
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise _bad("format", "format must be json or csv")
    quarter = _quarter()
    flow = _flow(agency.slug)
    database = db_of(current_app)
    if fmt == "json":
        with reading(database) as session:
            return jsonify(a11_report(session, flow, agency.id, quarter))
    kind = report_kind(flow)
    name = f"{flow.id}-fy{quarter.fiscal_year}-q{quarter.quarter}"
    if kind == "v2":
        body = started(submission_csv(database, flow, agency.id, quarter))
        name += "-responses.csv"
    elif kind == "seven_drivers":
        with reading(database) as session:
            body = iter(list(likert_csv(session, flow, agency.id, quarter)))
        name += "-drivers.csv"
    else:
        raise ApiError(
            422,
            "not_an_a11_flow",
            f"flow {flow.id!r} has no questions tagged for A-11 (a11: went_well or went_poorly "
            "for the v2 format, or rating questions tagged satisfaction..employee); "
            "the JSON report still gives its collection figures",
            {"field": "format"},
        )
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
