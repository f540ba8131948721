"""`gateway db upgrade`: apply the database migrations."""

from __future__ import annotations

import click

from config.settings import Settings
from gateway.store.db import upgrade


@click.group("db")
def db_group() -> None:
    """Manage the response store's schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Migrate up to this revision.")
def upgrade_command(revision: str) -> None:
    """Apply the migrations to DATABASE_URL (default: the SQLite file in instance/)."""
    settings = Settings.from_env()
    upgrade(settings.database_url, revision)
    click.echo(f"database at {_safe(settings.database_url)} is at revision {revision}")


def _safe(url: str) -> str:
    """The URL without its password, for printing."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"
