"""The agency HTTP API's blueprint (contract section 2), under ``/api/v1``.

Every request is authenticated by its bearer key before any view runs; every error is
JSON. Views are thin: parse, call :mod:`gateway.surveys.triggers` or the store, serialise.
"""

from __future__ import annotations

from flask import Blueprint, request

from gateway.api import batch, responses, surveys
from gateway.api import reports as a11_reports
from gateway.api import webhooks as event_webhooks
from gateway.api.auth import authenticate
from gateway.http import errors
from gateway.http.rate_limits import limit_api_key

#: Request bodies are small JSON documents; anything larger is refused with 413.
MAX_BODY_BYTES = 64 * 1024

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticate() -> None:
    request.max_content_length = MAX_BODY_BYTES
    authenticate()
    limit_api_key()


errors.register(bp)
bp.register_blueprint(batch.bp)
bp.register_blueprint(surveys.bp)
bp.register_blueprint(responses.bp)
bp.register_blueprint(a11_reports.bp)
bp.register_blueprint(event_webhooks.bp)
