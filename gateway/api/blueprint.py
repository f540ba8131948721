"""The agency HTTP API's blueprint (contract section 2), under ``/api/v1``.

Every request is authenticated by its bearer key before any view runs; every error is
JSON. Views are thin: parse, call :mod:`gateway.surveys.creation` or the store, serialise.
"""

from __future__ import annotations

from flask import Blueprint, request

from gateway.api import agency, batch, cases, comments, responses, surveys
from gateway.api import reports as a11_reports
from gateway.api import webhooks as event_webhooks
from gateway.api.auth import authenticate
from gateway.http import errors
from gateway.http.errors import ApiError
from gateway.http.rate_limits import limit_api_key
from gateway.surveys.input_policy import InputRefused, check_fields

#: Request bodies are small JSON documents; anything larger is refused with 413.
MAX_BODY_BYTES = 64 * 1024

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticate() -> None:
    request.max_content_length = MAX_BODY_BYTES
    authenticate()
    limit_api_key()
    try:  # every query value and path part, once, before any view reads one
        check_fields(request.args.items(multi=True))
        check_fields((name, str(value)) for name, value in (request.view_args or {}).items())
    except InputRefused as exc:
        raise ApiError(422, "invalid_field", exc.message, {"field": exc.field}) from exc


errors.register(bp)
bp.register_blueprint(batch.bp)
bp.register_blueprint(surveys.bp)
bp.register_blueprint(responses.bp)
bp.register_blueprint(a11_reports.bp)
bp.register_blueprint(event_webhooks.bp)
bp.register_blueprint(cases.bp)
bp.register_blueprint(comments.bp)
bp.register_blueprint(agency.bp)
