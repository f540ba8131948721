"""Liveness: `/healthz` answers while the process serves, and lists the flows."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    registry = current_app.extensions["flows"]
    return jsonify(
        status="ok",
        flows={
            "loaded": [
                {"id": f.id, "version": f.version, "agency": f.agency, "hash": f.content_hash}
                for f in sorted(registry.flows.values(), key=lambda f: f.id)
            ],
            "refused": [
                {"file": str(path), "errors": [str(e) for e in errors]}
                for path, errors in sorted(registry.refused.items())
            ],
        },
    )
