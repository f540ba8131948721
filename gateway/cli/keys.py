"""`gateway keys create`: a new API key for an agency (the agency is created when new)."""

from __future__ import annotations

import click

from config.settings import Settings
from gateway.api.keys import create_api_key, ensure_agency
from gateway.store.db import Database

SLUG_HELP = "Slug of the agency, as written in its flow files' `agency:` field."


@click.group("keys")
def keys_group() -> None:
    """Manage agency API keys."""


@keys_group.command("create")
@click.option("--agency", "slug", required=True, help=SLUG_HELP)
@click.option("--label", default=None, help="What the key is for, shown in listings.")
@click.option("--name", default=None, help="The agency's full name (default: the slug).")
@click.option("--help-contact", default=None, help="Who respondents may contact, for HELP.")
def create_command(
    slug: str, label: str | None, name: str | None, help_contact: str | None
) -> None:
    """Create an API key. The key is printed once, alone on the last line; keep it secret."""
    settings = Settings.from_env()
    database = Database(settings.database_url)
    try:
        if database.is_sqlite:
            database.upgrade()
        with database.session() as session:
            agency = ensure_agency(session, slug, name=name, help_contact=help_contact)
            row, key = create_api_key(session, agency, label)
            prefix = row.prefix
    finally:
        database.dispose()
    click.echo(
        f"API key {prefix}... created for agency {slug!r}. It is shown only once:", err=False
    )
    click.echo(key)
