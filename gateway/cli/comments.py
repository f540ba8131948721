"""`gateway comments check | backfill`: the themes' taxonomy, and reading old comments.

See docs/comments.md: what is read of a comment, the taxonomy file, and the backfill.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from config.settings import Settings
from gateway.comments.reader import ReaderConfigError, build_reader
from gateway.comments.taxonomy import load_taxonomy_file
from gateway.store import sealing as contacts
from gateway.store.db import Database
from gateway.store.models import utcnow
from gateway.surveys.comment_arrival import DEFAULT_TAXONOMY, TaxonomyError, load_taxonomy
from gateway.surveys.comment_backfill import Backfilled, backfill


@click.group("comments")
def comments_group() -> None:
    """Work with the themes' taxonomy and the comments' readings."""


@comments_group.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def check_command(paths: tuple[Path, ...]) -> None:
    """Validate taxonomy files (default: COMMENT_TAXONOMY, else the shipped one).

    Prints one `file:line:col: message` line per problem; exits 1 when any file is refused.
    """
    files = paths or (Settings.from_env().comment_taxonomy or DEFAULT_TAXONOMY,)
    refused = 0
    for path in files:
        loaded = load_taxonomy_file(path)
        for error in loaded.errors:
            click.echo(str(error))
        refused += not loaded.ok
    noun = "file" if len(files) == 1 else "files"
    click.echo(f"{len(files)} {noun} checked: {len(files) - refused} valid, {refused} refused")
    if refused:
        raise SystemExit(1)


@comments_group.command("backfill")
@click.option("--flow", "flow_id", default=None, help="Only this flow's comments.")
@click.option("--again", is_flag=True, help="Read comments that have a reading again.")
@click.option(
    "--redact", is_flag=True, help="Also mask personal data in the stored answers themselves."
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Stop after this many.")
def backfill_command(flow_id: str | None, again: bool, redact: bool, limit: int | None) -> None:
    """Read the free-text answers stored without a reading: themes, sentiment, crisis
    language (never routed: they are old), with the configured reader and taxonomy."""
    settings = Settings.from_env()
    try:
        reader = build_reader(settings.comment_reader, load_taxonomy(
            settings.comment_taxonomy or DEFAULT_TAXONOMY
        ))  # fmt: skip
        contacts.install(contacts.keyring_for(settings))
    except (TaxonomyError, ReaderConfigError, contacts.KeyConfigurationError) as exc:
        raise click.ClickException(str(exc)) from exc
    database = Database(settings.database_url)
    started = time.perf_counter()

    def progress(done: Backfilled) -> None:
        rate = done.comments / max(time.perf_counter() - started, 1e-9)
        click.echo(f"{done.comments} comments read ({rate:.0f}/s)", err=True)

    try:
        if database.is_sqlite:
            database.upgrade()
        with database.session() as session:
            done = backfill(
                session,
                reader,
                now=utcnow(),
                flow_id=flow_id,
                again=again,
                redact=redact,
                limit=limit,
                progress=progress,
            )
    finally:
        database.dispose()
    elapsed = time.perf_counter() - started
    click.echo(
        f"{done.comments} comments read in {elapsed:.1f} s; {done.crises} with crisis "
        f"language (not routed); {done.redacted} answers redacted"
    )
