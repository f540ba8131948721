"""Slowing password guessing without letting a stranger lock a staff member out.

Failed sign-ins are counted under two keys: the account from one address, and the
address whatever account it tries. Five failures in a row for an account from one
address hold that pair for 15 minutes (the right password from there included); twenty
failures from one address hold the address for 15 minutes, for every account. The
account itself is never locked: the staff member signs in from their own address while a
stranger hammers it from another. Counts older than the window are forgotten, and a
successful sign-in clears its pair. Keys are keyed hashes: the table holds neither
emails nor addresses.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from gateway.store.security_models import SignInThrottle

#: Failures in a row of one account from one address before the pair is held.
MAX_FAILED_SIGN_INS = 5
#: Failures from one address, whatever the accounts, before the address is held.
MAX_FAILED_PER_ADDRESS = 20
#: How long a pair or an address is held, and how long a failure is remembered.
LOCKOUT = timedelta(minutes=15)


def _key(kind: str, *parts: str) -> str:
    secret = current_app.secret_key
    key = secret.encode() if isinstance(secret, str) else bytes(secret or b"")
    message = "\x1f".join((kind, *parts)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _keys(email: str, address: str | None) -> tuple[str, str]:
    where = address or "unknown"
    return _key("account", email, where), _key("address", where)


def _row(session: Session, key: str, now: datetime) -> SignInThrottle | None:
    row = session.get(SignInThrottle, key, with_for_update=True)
    if row is not None and now - row.updated_at > LOCKOUT and not _held(row, now):
        row.failures = 0  # forgotten: the last failure is older than the window
    return row


def _held(row: SignInThrottle | None, now: datetime) -> bool:
    return row is not None and row.blocked_until is not None and now < row.blocked_until


def held(session: Session, email: str, address: str | None, now: datetime) -> bool:
    """Whether sign-ins of ``email`` from ``address`` are refused now."""
    pair, place = _keys(email, address)
    return _held(session.get(SignInThrottle, pair), now) or _held(
        session.get(SignInThrottle, place), now
    )


def _count(session: Session, key: str, limit: int, now: datetime) -> bool:
    row = _row(session, key, now)
    if row is None:
        row = SignInThrottle(key=key, failures=0, updated_at=now)
        session.add(row)
    row.failures += 1
    row.updated_at = now
    if row.failures >= limit:
        row.failures = 0
        row.blocked_until = now + LOCKOUT
        return True
    return False


def failed(session: Session, email: str, address: str | None, now: datetime) -> tuple[bool, bool]:
    """Count a failed sign-in; whether it began a hold of the pair, and of the address."""
    pair, place = _keys(email, address)
    return (
        _count(session, pair, MAX_FAILED_SIGN_INS, now),
        _count(session, place, MAX_FAILED_PER_ADDRESS, now),
    )


def succeeded(session: Session, email: str, address: str | None) -> None:
    """Clear the pair's count after a successful sign-in (the address count stays)."""
    pair, _place = _keys(email, address)
    row = session.get(SignInThrottle, pair)
    if row is not None:
        session.delete(row)
