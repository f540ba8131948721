"""Staff sign-in for the dashboard: password check, the signed session cookie, CSRF.

A signed-in session holds the staff member's id; each request reloads the member and
their agency, so a deleted account is signed out at once. Every POST carries the
session's CSRF token in a hidden field.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import abort, g, session
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from gateway.agencies import audit
from gateway.dashboard.roles import check_role
from gateway.store.models import Agency, utcnow
from gateway.store.results_models import StaffMember

MIN_PASSWORD_LENGTH = 12
#: Failed sign-ins in a row that lock an account, and for how long.
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_KEY = "dashboard_staff"
CSRF_KEY = "dashboard_csrf"
# Checked when the email is unknown, so that a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")


class StaffError(ValueError):
    """A staff account cannot be created as asked."""


def create_staff(
    session: Session, agency: Agency, email: str, password: str, role: str = "admin"
) -> StaffMember:
    """A new staff member of ``agency`` with ``role`` (see :mod:`gateway.dashboard.roles`);
    the password is kept only as a scrypt hash."""
    try:
        check_role(role)
    except ValueError as exc:
        raise StaffError(str(exc)) from exc
    email = email.strip().lower()
    if "@" not in email:
        raise StaffError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(sa.select(StaffMember.id).where(StaffMember.email == email)) is not None:
        raise StaffError(f"a staff member with the email {email} already exists")
    member = StaffMember(
        agency_id=agency.id,
        email=email,
        password_hash=generate_password_hash(password),
        role=role,
    )
    session.add(member)
    session.flush()
    return member


def authenticate(session: Session, email: str, password: str) -> StaffMember | None:
    """The staff member with this email and password, or None (same time either way).

    Every attempt is recorded in the audit log. After :data:`MAX_FAILED_SIGN_INS` failures
    in a row the account is locked for :data:`LOCKOUT`: even the right password is refused
    until then, so a password cannot be guessed faster than five tries a quarter hour.
    """
    address = email.strip().lower()
    member = session.scalars(sa.select(StaffMember).where(StaffMember.email == address)).first()
    actor = audit.staff_actor(address)
    if member is None:
        check_password_hash(_DUMMY_HASH, password)
        audit.record(session, "staff.sign_in_failed", actor=actor, agency_id=None)
        return None
    now = utcnow()
    locked = member.locked_until is not None and now < member.locked_until
    if not check_password_hash(member.password_hash, password) or locked:
        if not locked:
            member.failed_sign_ins += 1
            if member.failed_sign_ins >= MAX_FAILED_SIGN_INS:
                member.locked_until = now + LOCKOUT
                member.failed_sign_ins = 0
                audit.record(session, "staff.locked_out", actor=actor, agency_id=member.agency_id)
        audit.record(session, "staff.sign_in_failed", actor=actor, agency_id=member.agency_id)
        return None
    member.failed_sign_ins = 0
    member.locked_until = None
    member.last_login_at = now
    audit.record(session, "staff.signed_in", actor=actor, agency_id=member.agency_id)
    return member


def sign_in(member: StaffMember) -> None:
    session.clear()  # a fresh session: nothing from before sign-in carries over
    session[SESSION_KEY] = member.id
    session[CSRF_KEY] = secrets.token_urlsafe(32)


def sign_out() -> None:
    session.clear()


def signed_in_id() -> int | None:
    value = session.get(SESSION_KEY)
    return value if isinstance(value, int) else None


def csrf_token() -> str:
    token = session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


def check_csrf(submitted: str | None) -> None:
    """Abort with 400 unless the form carries this session's CSRF token."""
    expected = session.get(CSRF_KEY)
    if not isinstance(expected, str) or not submitted:
        abort(400, "the form has expired; reload the page and try again")
    if not hmac.compare_digest(expected, submitted):
        abort(400, "the form has expired; reload the page and try again")


def current_staff() -> StaffMember:
    member: StaffMember = g.staff
    return member
