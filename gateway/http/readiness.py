"""Readiness: `/readyz` answers 200 only when this process can serve surveys.

Checks the database (a round trip), Redis when ``REDIS_URL`` is set (a PING), and that at
least one flow is loaded. Any failed check makes the answer 503 with the name of the check
and why, so that a load balancer stops routing here and an operator sees what to fix.
`/healthz` stays a liveness probe: it answers while the process runs.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from config.settings import Settings
from gateway.flows.registry import FlowRegistry
from gateway.services import queue
from gateway.store.db import db_of

bp = Blueprint("readiness", __name__)

#: Seconds a load balancer should wait before asking again after a 503.
RETRY_AFTER = 5


#: A check's outcome: whether it passed, and what to tell the operator.
Outcome = tuple[bool, str]


def check_database(app: Flask) -> Outcome:
    try:
        with db_of(app).engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        return False, f"database unreachable: {type(cause).__name__}"
    return True, "ok"


def check_redis(app: Flask) -> Outcome:
    settings: Settings = app.extensions["settings"]
    if not settings.redis_url:
        return True, "not configured (jobs run in the web process)"
    try:
        queue.redis_of(app).ping()
    except RedisError as exc:
        return False, f"redis unreachable: {type(exc).__name__}"
    return True, "ok"


def check_flows(app: Flask) -> Outcome:
    registry: FlowRegistry = app.extensions["flows"]
    if not registry.flows:
        refused = len(registry.refused)
        return False, f"no flow loaded ({refused} file(s) refused; run `gateway flows check`)"
    return True, "ok"


CHECKS: dict[str, Callable[[Flask], Outcome]] = {
    "database": check_database,
    "redis": check_redis,
    "flows": check_flows,
}


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    results = {name: check(app) for name, check in CHECKS.items()}
    failed = [name for name, (passed, _detail) in results.items() if not passed]
    checks = {name: detail for name, (_passed, detail) in results.items()}
    if failed:
        body = jsonify(status="unavailable", failed=failed, checks=checks)
        return body, 503, {"Retry-After": str(RETRY_AFTER)}
    return jsonify(status="ok", checks=checks)
