"""`gateway staff create`: a dashboard account for one agency's staff member."""

from __future__ import annotations

import sys

import click

from config.settings import Settings
from gateway.agencies import audit
from gateway.agencies.keys import ensure_agency
from gateway.dashboard.auth import MIN_PASSWORD_LENGTH, StaffError, create_staff
from gateway.dashboard.roles import ROLES
from gateway.store.db import Database


@click.group("staff")
def staff_group() -> None:
    """Manage dashboard staff accounts."""


@staff_group.command("create")
@click.option("--agency", "slug", required=True, help="Slug of the staff member's agency.")
@click.option("--email", required=True, help="The staff member's email address (their sign-in).")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="viewer",
    show_default=True,
    help="viewer: summaries; analyst: also the comments; admin: also alert deliveries.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
def create_command(slug: str, email: str, role: str, password_stdin: bool) -> None:
    """Create a staff account. The password is prompted for (or read from stdin), never an
    argument, so it stays out of shell history and process lists."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
            hide_input=True,
            confirmation_prompt=True,
        )
    settings = Settings.from_env()
    database = Database(settings.database_url)
    try:
        if database.is_sqlite:
            database.upgrade()
        with database.session() as session:
            agency = ensure_agency(session, slug)
            member = create_staff(session, agency, email, password, role)
            address = member.email
            audit.record(
                session,
                "staff.created",
                actor=audit.cli_actor(),
                agency_id=agency.id,
                target=f"{address} ({role})",
            )
    except StaffError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()
    click.echo(f"Staff account {address} ({role}) created for agency {slug!r}.")
