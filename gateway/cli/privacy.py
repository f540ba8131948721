"""`gateway privacy erase | rotate-keys | new-key`: respondents' contact addresses.

See docs/privacy.md: what is erased when, and how keys are rotated.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from config.settings import Settings
from gateway.privacy import erasure, rotation
from gateway.store import sealing as contacts
from gateway.store.db import Database
from gateway.store.models import utcnow


@click.group("privacy")
def privacy_group() -> None:
    """Erase respondents' contacts and rotate the keys that seal them."""


@contextmanager
def _store(settings: Settings) -> Iterator[Session]:
    """A session on ``DATABASE_URL`` with the configured keys installed (a SQLite file is
    migrated first)."""
    try:
        contacts.install(contacts.keyring_for(settings))
    except contacts.KeyConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    database = Database(settings.database_url)
    try:
        if database.is_sqlite:
            database.upgrade()
        with database.session() as session:
            yield session
    finally:
        database.dispose()


@privacy_group.command("erase")
@click.option("--dry-run", is_flag=True, help="Count what is due, erase nothing.")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Erase contacts of surveys closed this many days ago (default: CONTACT_RETENTION_DAYS).",
)
def erase_command(dry_run: bool, days: int | None) -> None:
    """Erase the contact addresses whose retention is over; answers stay."""
    settings = Settings.from_env()
    days = days if days is not None else settings.contact_retention_days
    if days == 0:
        click.echo("CONTACT_RETENTION_DAYS is 0: contacts are kept, nothing to erase.")
        return
    with _store(settings) as session:
        now = utcnow()
        if dry_run:
            due = erasure.count_due(session, now=now, days=days)
            click.echo(
                f"would erase the contacts of {due.surveys} survey(s) and the addresses of "
                f"{due.messages} message(s) (closed {days}+ days ago)"
            )
            return
        done = erasure.erase_all_due(session, now=now, days=days)
    click.echo(
        f"erased the contacts of {done.surveys} survey(s) and the addresses of "
        f"{done.messages} message(s) (closed {days}+ days ago)"
    )


@privacy_group.command("rotate-keys")
@click.option("--dry-run", is_flag=True, help="Count the values to re-seal, change nothing.")
def rotate_keys_command(dry_run: bool) -> None:
    """Re-seal every contact under the first key of CONTACT_ENCRYPTION_KEYS."""
    settings = Settings.from_env()
    with _store(settings) as session:
        keys = contacts.keyring()
        outcome = rotation.rotate(session, keys, dry_run=dry_run)
    verb = "to re-seal" if dry_run else "re-sealed"
    for column, count in outcome.resealed.items():
        click.echo(f"{column}: {count} {verb}")
    click.echo(f"{outcome.total} value(s) {verb} under key {keys.primary_id!r}")


@privacy_group.command("new-key")
def new_key_command() -> None:
    """Print a new random key (for CONTACT_ENCRYPTION_KEYS as <id>:<key>, or
    CONTACT_HASH_KEY)."""
    click.echo(contacts.new_key())
