"""Dashboard sessions that end: revocable on the server, idle and absolute timeouts.

The session cookie is signed (Flask's), and holds the staff member's id with what the
session was granted under: the account's ``session_epoch``, its role, a fingerprint of
its password hash, when the session began and when it was last used. A request is
let in only while all of them still hold:

- sign-out moves the account's epoch on, so every session of the account (a copied
  cookie included) is refused from then on;
- a new role or password does the same (the epoch is moved on when the ORM changes
  them, and the role and fingerprint are compared too, for a change made in SQL);
- a removed account has no row, so its sessions are refused;
- a session unused for ``DASHBOARD_IDLE_MINUTES`` or older than
  ``DASHBOARD_SESSION_HOURS`` is refused whatever else holds (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from flask import current_app, session
from sqlalchemy import event

from config.settings import Settings
from gateway.dashboard.auth import CSRF_KEY
from gateway.store.models import utcnow
from gateway.store.results_models import StaffMember

SESSION_KEY = "dashboard_staff"
_GRANT_KEY = "dashboard_grant"


def _fingerprint(member: StaffMember) -> str:
    """A keyed digest of the password hash: a new password ends the sessions of the old
    one, and the cookie (readable by its holder) shows nothing of the hash."""
    key = current_app.secret_key
    secret = key.encode() if isinstance(key, str) else bytes(key or b"")
    digest = hmac.new(secret, member.password_hash.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def _stamp(moment: datetime) -> float:
    return moment.timestamp()


def sign_in(member: StaffMember) -> None:
    """Begin a fresh session for ``member`` (nothing from before sign-in carries over)."""
    now = _stamp(utcnow())
    session.clear()
    session[SESSION_KEY] = member.id
    session[_GRANT_KEY] = {
        "epoch": member.session_epoch or 0,
        "role": member.role,
        "password": _fingerprint(member),
        "began": now,
        "seen": now,
    }
    session[CSRF_KEY] = secrets.token_urlsafe(32)


def sign_out() -> None:
    """Forget this browser's session (the account's others end with :func:`end_all`)."""
    session.clear()


def signed_in_id() -> int | None:
    """The staff id the cookie claims, before :func:`still_valid` is asked."""
    value = session.get(SESSION_KEY)
    return value if isinstance(value, int) else None


def still_valid(member: StaffMember) -> bool:
    """Whether this request's session of ``member`` may go on; marks it used if so."""
    grant: Any = session.get(_GRANT_KEY)
    if not isinstance(grant, dict):
        return False
    settings: Settings = current_app.extensions["settings"]
    now = _stamp(utcnow())
    began, seen = grant.get("began"), grant.get("seen")
    if not isinstance(began, int | float) or not isinstance(seen, int | float):
        return False
    if now - seen > settings.dashboard_idle_minutes * 60:
        return False
    if now - began > settings.dashboard_session_hours * 3600:
        return False
    if grant.get("epoch") != (member.session_epoch or 0) or grant.get("role") != member.role:
        return False
    if not hmac.compare_digest(str(grant.get("password")), _fingerprint(member)):
        return False
    session[_GRANT_KEY] = {**grant, "seen": now}
    return True


def end_all(member: StaffMember) -> None:
    """End every session of ``member`` (the caller commits)."""
    member.session_epoch = (member.session_epoch or 0) + 1


def _ends_sessions(target: StaffMember, value: Any, old: Any, _initiator: Any) -> None:
    # A set while the row is loaded (old is a real value) that changes it: a new role or
    # password ends the sessions granted under the old one.
    if isinstance(old, str) and value != old:
        end_all(target)


event.listen(StaffMember.role, "set", _ends_sessions)
event.listen(StaffMember.password_hash, "set", _ends_sessions)
