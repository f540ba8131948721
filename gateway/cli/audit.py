"""`gateway audit list`: read the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from gateway.agencies.audit import ACTIONS, list_events
from gateway.cli.keys import store_session


@click.group("audit")
def audit_group() -> None:
    """Read the audit log."""


@audit_group.command("list")
@click.option("--agency", "slug", default=None, help="Only this agency's events.")
@click.option("--action", type=click.Choice(ACTIONS), default=None, help="Only this action.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="Only events from this UTC date (or date and time) on.",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
def list_command(slug: str | None, action: str | None, since: datetime | None, limit: int) -> None:
    """The newest events first: when (UTC), agency, who, what, on which record, from where."""
    start = since.replace(tzinfo=UTC) if since else None
    with store_session() as session:
        for event, agency in list_events(
            session, agency_slug=slug, action=action, since=start, limit=limit
        ):
            click.echo(
                "\t".join(
                    (
                        event.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        agency or "-",
                        event.actor,
                        event.action,
                        event.target or "-",
                        event.remote_addr or "-",
                    )
                )
            )
