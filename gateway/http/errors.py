"""JSON errors for the agency API: ``{"error": {"code", "message", "details"}}``, always.

Routing errors (an unknown path under ``/api/``, a wrong method) never reach a blueprint,
so they are answered by app-wide handlers that look at the path; every other page of the
app keeps its own error pages.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from gateway.store.slow_reads import ReadTimedOut

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

# Error codes for the statuses Werkzeug raises on its own.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_field",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error the API answers with: status, code, message and optional details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Response:
    response = jsonify(error={"code": code, "message": message, "details": details})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _api_error(error: ApiError) -> Response:
    return error_response(error.status, error.code, error.message, error.details, error.headers)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    headers = {}
    if status == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    message = error.description or error.name
    return error_response(status, HTTP_CODES.get(status, "error"), message, None, headers)


def _unexpected(error: Exception) -> Response:
    log.exception("unhandled error in %s %s", request.method, request.path, exc_info=error)
    return error_response(500, "internal_error", "the gateway failed to handle this request")


def _database_unavailable(error: Exception) -> Response:
    log.warning("database unavailable: answered 503")
    return error_response(
        503,
        "database_unavailable",
        "the gateway cannot reach its database just now; retry shortly",
        None,
        {"Retry-After": "5"},
    )


def _read_timed_out(error: ReadTimedOut) -> Response:
    log.warning("read cancelled after %g s: answered 503", error.seconds)
    message = (
        f"the query behind this request ran longer than the {error.seconds:g}-second limit "
        "and was cancelled; narrow the period or the filters, then retry"
    )
    return error_response(503, "query_timeout", message, {"limit_seconds": error.seconds})


def _routing_error(error: HTTPException) -> Response | HTTPException:
    if not request.path.startswith(API_PREFIX):
        return error
    if error.code == 404:
        message = f"no API endpoint at {request.path}; the endpoints are listed in docs/api.md"
        return error_response(404, "not_found", message)
    return _http_error(error)


def register(bp: Blueprint) -> None:
    """JSON for every error raised in ``bp``'s views and for routing errors under /api/."""
    bp.register_error_handler(ApiError, _api_error)
    bp.register_error_handler(HTTPException, _http_error)
    for unreachable in (OperationalError, InterfaceError):  # the database, for a moment
        bp.register_error_handler(unreachable, _database_unavailable)
    bp.register_error_handler(ReadTimedOut, _read_timed_out)
    bp.register_error_handler(Exception, _unexpected)
    bp.app_errorhandler(404)(_routing_error)
    bp.app_errorhandler(405)(_routing_error)
