"""Liveness: `/healthz` answers while the process serves, with how many flows it loaded
and refused.

The probe is public (load balancers and the platform call it without credentials), so it
names no flow, agency, version or file: an agency sees its own flows on its dashboard, and
why a file was refused is in the start-up log and in ``gateway flows check``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from gateway.flows.registry import FlowRegistry

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """``{"status": "ok", "flows": {"loaded": N, "refused": M}}`` while the process serves."""
    registry: FlowRegistry = current_app.extensions["flows"]
    return jsonify(
        status="ok",
        flows={"loaded": len(registry.flows), "refused": len(registry.refused)},
    )
