"""Staff sign-in for the dashboard: password check and CSRF.

The session itself (what it holds, when it ends) is :mod:`gateway.dashboard.sessions`.
Every POST carries the session's CSRF token in a hidden field.
"""

from __future__ import annotations

import hmac
import secrets

import sqlalchemy as sa
from flask import abort, g, has_request_context, request, session
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from gateway.agencies import audit
from gateway.dashboard import throttle
from gateway.dashboard.roles import check_role
from gateway.store.models import Agency, utcnow
from gateway.store.results_models import StaffMember

MIN_PASSWORD_LENGTH = 12
#: Failed sign-ins in a row (of one account from one address) before they are held, and
#: for how long (:mod:`gateway.dashboard.throttle`).
MAX_FAILED_SIGN_INS = throttle.MAX_FAILED_SIGN_INS
LOCKOUT = throttle.LOCKOUT
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


def authenticate(
    session: Session, email: str, password: str, address: str | None = None
) -> StaffMember | None:
    """The staff member with this email and password, or None (same time either way).

    Every attempt is recorded in the audit log. Failures are throttled by account and
    address (:mod:`gateway.dashboard.throttle`): after five in a row from one address that
    address is refused for the account for 15 minutes, even with the right password,
    while the staff member's own address still signs in.
    """
    if address is None and has_request_context():
        address = request.remote_addr
    email = email.strip().lower()
    member = session.scalars(sa.select(StaffMember).where(StaffMember.email == email)).first()
    actor = audit.staff_actor(email)
    agency_id = member.agency_id if member is not None else None
    now = utcnow()
    if throttle.held(session, email, address, now):
        check_password_hash(_DUMMY_HASH, password)  # as long as any other answer
        audit.record(session, "staff.sign_in_failed", actor=actor, agency_id=agency_id)
        return None
    locked = member is not None and member.locked_until is not None and now < member.locked_until
    if member is None or locked or not check_password_hash(member.password_hash, password):
        if member is None:
            check_password_hash(_DUMMY_HASH, password)
        else:
            member.failed_sign_ins += 1
        pair_held, address_held = throttle.failed(session, email, address, now)
        if pair_held:
            audit.record(session, "staff.locked_out", actor=actor, agency_id=agency_id)
        if address_held:
            audit.record(session, "staff.address_held", actor=actor, agency_id=agency_id)
        audit.record(session, "staff.sign_in_failed", actor=actor, agency_id=agency_id)
        return None
    throttle.succeeded(session, email, address)
    member.failed_sign_ins = 0
    member.last_login_at = now
    audit.record(session, "staff.signed_in", actor=actor, agency_id=member.agency_id)
    return member


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
