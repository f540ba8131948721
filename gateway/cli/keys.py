"""`gateway keys create | list | revoke`: agency API keys.

Keys are shown once, at creation; listings show only the prefix that tells them apart.
Creating and revoking a key are recorded in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import click
from sqlalchemy.orm import Session

from config.settings import Settings
from gateway.agencies import audit
from gateway.agencies.keys import (
    ApiKeyNotFound,
    create_api_key,
    ensure_agency,
    list_api_keys,
    revoke_api_key,
)
from gateway.flows.reader import AGENCY
from gateway.store.db import Database
from gateway.store.models import utcnow

#: The longest slug the store keeps.
MAX_SLUG = 64
SLUG_HELP = "Slug of the agency, as written in its flow files' `agency:` field."


@click.group("keys")
def keys_group() -> None:
    """Manage agency API keys."""


@contextmanager
def store_session() -> Iterator[Session]:
    """A session on ``DATABASE_URL`` (a SQLite file is migrated first), committed on exit."""
    database = Database(Settings.from_env().database_url)
    try:
        if database.is_sqlite:
            database.upgrade()
        with database.session() as session:
            yield session
    finally:
        database.dispose()


def _flow_slug(_ctx: click.Context, _param: click.Parameter, slug: str) -> str:
    """``slug`` when a flow file could name it (the rule of a flow's ``agency:`` field)."""
    if not AGENCY.fullmatch(slug) or len(slug) > MAX_SLUG:
        raise click.BadParameter(
            f"{slug!r} is no agency a flow could name: use lowercase letters, digits and "
            f"hyphens, starting with a letter or digit, at most {MAX_SLUG} characters"
        )
    return slug


@keys_group.command("create")
@click.option("--agency", "slug", required=True, help=SLUG_HELP, callback=_flow_slug)
@click.option("--label", default=None, help="What the key is for, shown in listings.")
@click.option("--name", default=None, help="The agency's full name (default: the slug).")
@click.option("--help-contact", default=None, help="Who respondents may contact, for HELP.")
@click.option(
    "--expires-in-days",
    type=click.IntRange(min=1),
    default=None,
    help="The key stops working this many days from now (default: never).",
)
@click.option(
    "--admin",
    is_flag=True,
    help="The key may also read and change the agency's settings (/api/v1/agency).",
)
def create_command(
    slug: str,
    label: str | None,
    name: str | None,
    help_contact: str | None,
    expires_in_days: int | None,
    admin: bool,
) -> None:
    """Create an API key. The key is printed once, alone on the last line; keep it secret."""
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    with store_session() as session:
        agency = ensure_agency(session, slug, name=name, help_contact=help_contact)
        row, key = create_api_key(session, agency, label, expires_at, admin=admin)
        prefix = row.prefix
        audit.record(
            session, "key.created", actor=audit.cli_actor(), agency_id=agency.id, target=prefix
        )
    until = f", valid until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
    click.echo(f"API key {prefix}... created for agency {slug!r}{until}. It is shown only once:")
    click.echo(key)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


@keys_group.command("list")
@click.option("--agency", "slug", default=None, help="Only this agency's keys.")
def list_command(slug: str | None) -> None:
    """List API keys (never the keys themselves): prefix, agency, label, created, last used,
    expiry and revocation, in UTC."""
    with store_session() as session:
        rows = [
            (
                row.prefix,
                row.agency.slug,
                row.label or "-",
                _when(row.created_at),
                _when(row.last_used_at),
                _when(row.expires_at),
                _when(row.revoked_at),
            )
            for row in list_api_keys(session, slug)
        ]
    header = ("PREFIX", "AGENCY", "LABEL", "CREATED", "LAST USED", "EXPIRES", "REVOKED")
    if not rows:
        click.echo("No API keys." if slug is None else f"No API keys for agency {slug!r}.")
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


@keys_group.command("revoke")
@click.argument("prefix")
def revoke_command(prefix: str) -> None:
    """Revoke the key whose prefix (as `gateway keys list` shows it) is PREFIX. It stops
    working at once."""
    try:
        with store_session() as session:
            row = revoke_api_key(session, prefix, utcnow())
            shown = row.prefix
            audit.record(
                session,
                "key.revoked",
                actor=audit.cli_actor(),
                agency_id=row.agency_id,
                target=shown,
            )
    except ApiKeyNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"API key {shown}... revoked.")
