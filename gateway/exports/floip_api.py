"""``GET /api/v1/responses?flow=X&format=floip`` (the package descriptor) and
``format=floip-data`` (its response rows), with the same filters as the other formats."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from config.settings import Settings
from gateway.exports import floip
from gateway.exports.streams import started
from gateway.flows.model import Flow
from gateway.flows.registry import FlowRegistry
from gateway.http.errors import ApiError
from gateway.store.db import db_of
from gateway.store.models import Agency, FlowVersion, utcnow
from gateway.store.slow_reads import reading
from gateway.surveys.flow_versions import flow_for_version

FORMATS = ("floip", "floip-data")


def _flows(agency: Agency, flow_id: str) -> list[Flow]:
    """The loaded flow and every version surveys ran on, newest first."""
    registry: FlowRegistry = current_app.extensions["flows"]
    flows: list[Flow] = []
    current = registry.get(flow_id)
    if current is not None and current.agency == agency.slug:
        flows.append(current)
    with reading(db_of(current_app)) as session:
        versions = session.scalars(
            sa.select(FlowVersion)
            .where(FlowVersion.flow_id == flow_id, FlowVersion.agency_slug == agency.slug)
            .order_by(FlowVersion.version.desc(), FlowVersion.id.desc())
        )
        flows.extend(flow_for_version(v) for v in versions)
    if not flows:
        raise ApiError(404, "flow_not_found", f"no flow {flow_id!r} for agency {agency.slug!r}")
    return flows


def _data_url(settings: Settings) -> str:
    args = {**request.args.to_dict(), "format": "floip-data"}
    base = settings.public_base_url or request.host_url.rstrip("/")
    return f"{base}{request.path}?{urlencode(args)}"


def respond(agency: Agency, surveys: sa.Select[Any], fmt: str) -> ResponseReturnValue:
    """The descriptor or the rows of the surveys ``surveys`` selects (one flow's)."""
    flow_id = request.args.get("flow")
    if not flow_id:
        raise ApiError(
            400,
            "invalid_parameter",
            f"format={fmt} needs flow=ID: a package holds one flow's responses",
            {"field": "flow"},
        )
    flows = _flows(agency, flow_id)
    settings: Settings = current_app.extensions["settings"]
    database = db_of(current_app)
    if fmt == "floip-data":
        return Response(
            started(floip.rows(database, surveys, settings.secret_key)),
            mimetype="application/json",
        )
    with reading(database) as session:
        created, modified = floip.version_times(session, agency.slug, flow_id)
    if created is None:  # no survey has run on the flow yet: its file is the only version
        created = modified = utcnow()
    return jsonify(floip.descriptor(flows, agency.slug, created, modified, _data_url(settings)))
