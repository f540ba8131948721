"""Bearer-key authentication: every API request names its agency by its key."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, request

from gateway.agencies.keys import find_api_key
from gateway.http.errors import ApiError
from gateway.store.db import db_of
from gateway.store.models import Agency, utcnow

# last_used_at is a hint for key rotation, not an audit log: write it at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="gateway"'}


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers=CHALLENGE)


def authenticate() -> None:
    """Resolve the request's ``Authorization: Bearer`` key to its agency (``g.agency``)."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if not header:
        raise _unauthorized("missing Authorization header; send 'Authorization: Bearer <api key>'")
    if scheme.lower() != "bearer" or not key.strip():
        raise _unauthorized(
            "malformed Authorization header; send 'Authorization: Bearer <api key>'"
        )
    now = utcnow()
    with db_of(current_app).session() as session:
        row = find_api_key(session, key.strip())
        if row is None:
            raise _unauthorized("unknown API key")
        if not row.usable(now):
            raise _unauthorized("this API key was revoked or has expired; create a new one")
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            row.last_used_at = now
        agency = row.agency
        prefix = row.prefix
        admin = row.admin
        session.expunge(agency)
    g.agency = agency
    g.api_key_prefix = prefix  # names the caller in the audit log
    g.api_key_admin = admin


def require_admin() -> None:
    """Refuse (403) a request whose key is not an admin key of its agency."""
    if not getattr(g, "api_key_admin", False):
        raise ApiError(
            403,
            "forbidden",
            "this API key may not read or change the agency's settings; "
            "an admin key may (`gateway keys create --admin`)",
        )


def current_agency() -> Agency:
    agency: Agency = g.agency
    return agency
