"""Agency API keys: made here, shown once, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from gateway.store.models import Agency, ApiKey

KEY_PREFIX = "gw_"
#: Characters of the key kept in clear, to find its row and to tell keys apart in listings.
LOOKUP_CHARS = 11


def generate_key() -> str:
    """A new key: ``gw_`` and 32 random bytes, URL-safe base64."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def ensure_agency(
    session: Session,
    slug: str,
    *,
    name: str | None = None,
    help_contact: str | None = None,
    program_name: str | None = None,
) -> Agency:
    """The agency with ``slug``, created when new; given values update an existing one."""
    agency = session.scalars(sa.select(Agency).where(Agency.slug == slug)).first()
    if agency is None:
        agency = Agency(
            slug=slug, name=name or slug, help_contact=help_contact, program_name=program_name
        )
        session.add(agency)
        session.flush()
        return agency
    if name is not None:
        agency.name = name
    if help_contact is not None:
        agency.help_contact = help_contact
    if program_name is not None:
        agency.program_name = program_name
    return agency


def create_api_key(
    session: Session,
    agency: Agency,
    label: str | None = None,
    expires_at: datetime | None = None,
    *,
    admin: bool = False,
) -> tuple[ApiKey, str]:
    """A new key for ``agency``: the row (holding only the hash) and the key itself. An
    ``admin`` key may also read and change the agency's settings."""
    key = generate_key()
    row = ApiKey(
        agency_id=agency.id,
        prefix=key[:LOOKUP_CHARS],
        key_hash=hash_key(key),
        label=label,
        expires_at=expires_at,
        admin=admin,
    )
    session.add(row)
    session.flush()
    return row, key


def find_api_key(session: Session, key: str) -> ApiKey | None:
    """The key's row, found by prefix and compared by hash in constant time; None if unknown.

    Revocation and expiry are the caller's to check (:meth:`ApiKey.usable`).
    """
    if not key.startswith(KEY_PREFIX) or len(key) < LOOKUP_CHARS:
        return None
    digest = hash_key(key)
    candidates = session.scalars(sa.select(ApiKey).where(ApiKey.prefix == key[:LOOKUP_CHARS]))
    for row in candidates:
        if hmac.compare_digest(row.key_hash, digest):
            return row
    return None


class ApiKeyNotFound(LookupError):
    """No single key matches what was asked for."""


def list_api_keys(session: Session, agency_slug: str | None = None) -> list[ApiKey]:
    """Every key (of one agency when ``agency_slug`` is given), oldest first, agency loaded."""
    query = sa.select(ApiKey).join(Agency).order_by(ApiKey.created_at, ApiKey.id)
    if agency_slug is not None:
        query = query.where(Agency.slug == agency_slug)
    return list(session.scalars(query.options(joinedload(ApiKey.agency))))


def revoke_api_key(session: Session, prefix: str, now: datetime) -> ApiKey:
    """Revoke the key whose listing prefix is ``prefix`` (or the key given in full, should
    two keys ever share a prefix); revoking twice keeps the first revocation time."""
    if len(prefix) > LOOKUP_CHARS:
        found = find_api_key(session, prefix)
        rows = [found] if found is not None else []
    else:
        rows = list(session.scalars(sa.select(ApiKey).where(ApiKey.prefix == prefix)))
    if not rows:
        raise ApiKeyNotFound(f"no API key with the prefix {prefix!r}; see `gateway keys list`")
    if len(rows) > 1:
        raise ApiKeyNotFound(
            f"{len(rows)} keys share the prefix {prefix!r}; give the whole key to revoke one"
        )
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = now
    return row
