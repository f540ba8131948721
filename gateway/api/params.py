"""Query parameters of the agency API read one way: a refused value is a 400
``invalid_parameter`` naming the parameter, and times are read as the API documents."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import request

from gateway.http.errors import ApiError
from gateway.surveys.input_policy import InputRefused, check_datetime

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def bad_parameter(field: str, message: str) -> ApiError:
    """The error for a refused query parameter ``field``."""
    return ApiError(400, "invalid_parameter", message, {"field": field})


def given_parameter(name: str) -> str | None:
    """The query parameter ``name``, None when absent; given empty, it is refused."""
    raw = request.args.get(name)
    if raw == "":
        raise bad_parameter(name, f"{name} must not be empty")
    return raw


def time_parameter(name: str) -> datetime | None:
    """A date (midnight UTC) or an ISO-8601 date and time (UTC when no offset is given)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(), UTC)
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        message = f"{name} {raw!r} is not an ISO-8601 date (2026-01-31) or date and time"
        raise bad_parameter(name, message) from exc
    try:
        return check_datetime(value, name)
    except InputRefused as exc:
        raise bad_parameter(name, exc.message) from exc
