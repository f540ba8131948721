"""`gateway agencies ...`: an agency's own settings, senders and Twilio account.

Every change is checked whole before it is written (a bad value changes nothing) and is
recorded in the audit log. The Twilio auth token is read from a hidden prompt (or standard
input), sealed at rest, and never shown again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.agencies import audit, profiles, senders
from gateway.agencies.keys import ensure_agency
from gateway.cli.keys import _flow_slug, store_session
from gateway.store.agency_models import SENDER_CHANNELS
from gateway.store.models import Agency


@click.group("agencies")
def agencies_group() -> None:
    """Manage agencies: names, HELP text, email identity, senders, Twilio account."""


def _agency(session: Session, slug: str) -> Agency:
    agency = session.scalars(sa.select(Agency).where(Agency.slug == slug)).first()
    if agency is None:
        raise click.ClickException(
            f"no agency {slug!r}; create it with `gateway agencies create {slug}`"
        )
    return agency


@contextmanager
def _changing(slug: str) -> Iterator[tuple[Session, Agency]]:
    """The agency in a session committed on exit; a refused change is a clear error."""
    try:
        with store_session() as session:
            yield session, _agency(session, slug)
    except (profiles.ProfileError, senders.SenderError, senders.SenderNotFound) as exc:
        raise click.ClickException(str(exc)) from exc


def _record(session: Session, action: str, agency: Agency, target: str | None = None) -> None:
    audit.record(session, action, actor=audit.cli_actor(), agency_id=agency.id, target=target)


@agencies_group.command("create")
@click.argument("slug", callback=_flow_slug)
@click.option("--name", required=True, help="The agency's full name.")
def create_command(slug: str, name: str) -> None:
    """Create the agency SLUG (as its flow files' `agency:` field names it)."""
    try:
        with store_session() as session:
            if session.scalar(sa.select(Agency.id).where(Agency.slug == slug)) is not None:
                raise click.ClickException(f"agency {slug!r} exists already")
            agency = ensure_agency(session, slug)
            profiles.update_profile(session, agency, {"name": name})
            _record(session, "agency.created", agency, slug)
    except profiles.ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Agency {slug!r} created.")


@agencies_group.command("list")
def list_command() -> None:
    """List the agencies: slug, name, senders and whether they have a Twilio account."""
    with store_session() as session:
        rows = [
            (
                agency.slug,
                agency.name,
                str(len(senders.list_senders(session, agency))),
                "own" if agency.twilio_account_sid else "deployment's",
            )
            for agency in session.scalars(sa.select(Agency).order_by(Agency.slug))
        ]
    if not rows:
        click.echo("No agencies.")
        return
    header = ("SLUG", "NAME", "SENDERS", "TWILIO ACCOUNT")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


@agencies_group.command("show")
@click.argument("slug")
def show_command(slug: str) -> None:
    """Show the agency's settings and senders as JSON (never its Twilio auth token)."""
    with store_session() as session:
        shown = profiles.describe(session, _agency(session, slug))
    click.echo(json.dumps(shown, indent=2, default=str))


@agencies_group.command("set")
@click.argument("slug")
@click.option(
    "--set",
    "pairs",
    multiple=True,
    metavar="SETTING=VALUE",
    help=(
        f"A setting and its value; repeat for several. The settings: "
        f"{', '.join(profiles.PROFILE_FIELDS)}. An empty value goes back to the "
        "deployment's default."
    ),
)
def set_command(slug: str, pairs: tuple[str, ...]) -> None:
    """Change the agency's settings, e.g. --set email_from=feedback@agency.gov."""
    changes: dict[str, object] = {}
    for pair in pairs:
        setting, equals, value = pair.partition("=")
        if not equals:
            raise click.BadParameter(f"{pair!r} is not SETTING=VALUE", param_hint="--set")
        changes[setting.strip()] = value
    if not changes:
        raise click.UsageError("give at least one --set SETTING=VALUE")
    with _changing(slug) as (session, agency):
        changed = profiles.update_profile(session, agency, changes)
        if changed:
            _record(session, "agency.updated", agency, ",".join(changed))
    click.echo(f"Changed: {', '.join(changed)}." if changed else "Nothing changed.")


@agencies_group.command("add-sender")
@click.argument("slug")
@click.argument("channel", type=click.Choice(SENDER_CHANNELS))
@click.argument("address")
@click.option("--service", default=None, help="The Messaging Service whose pool holds the number.")
@click.option("--label", default=None, help="What the sender is for, shown in listings.")
@click.option("--default", "default", is_flag=True, help="Make it the channel's default.")
def add_sender_command(
    slug: str, channel: str, address: str, service: str | None, label: str | None, default: bool
) -> None:
    """Register ADDRESS (an E.164 number, or an SMS Messaging Service SID) as a sender of
    the agency. Its first sender of a channel becomes that channel's default."""
    with _changing(slug) as (session, agency):
        sender = senders.add_sender(
            session, agency, channel, address, service=service, label=label, default=default
        )
        _record(session, "agency.sender_added", agency, f"{channel} {sender.address}")
        shown = (sender.id, sender.address, sender.is_default)
    suffix = " (default)" if shown[2] else ""
    click.echo(f"Sender {shown[0]}: {channel} {shown[1]}{suffix}.")


@agencies_group.command("default-sender")
@click.argument("slug")
@click.argument("sender_id", type=int)
def default_sender_command(slug: str, sender_id: int) -> None:
    """Make the sender SENDER_ID (see `gateway agencies show`) its channel's default."""
    with _changing(slug) as (session, agency):
        sender = senders.make_default(session, agency, sender_id)
        _record(session, "agency.sender_default", agency, f"{sender.channel} {sender.address}")
    click.echo(f"Sender {sender_id} is the default.")


@agencies_group.command("remove-sender")
@click.argument("slug")
@click.argument("sender_id", type=int)
def remove_sender_command(slug: str, sender_id: int) -> None:
    """Remove the sender SENDER_ID; refused while a survey is still open on it."""
    with _changing(slug) as (session, agency):
        sender = senders.remove_sender(session, agency, sender_id)
        _record(session, "agency.sender_removed", agency, f"{sender.channel} {sender.address}")
    click.echo(f"Sender {sender_id} removed.")


@agencies_group.command("set-twilio")
@click.argument("slug")
@click.option("--account-sid", required=True, help="The agency's Twilio (sub)account SID.")
@click.option(
    "--auth-token",
    prompt="Auth token",
    hide_input=True,
    help="Leave out to be asked (hidden), or pipe it on standard input.",
)
def set_twilio_command(slug: str, account_sid: str, auth_token: str) -> None:
    """Send the agency's texts and calls, and check its webhooks, with its own Twilio
    account. The token is sealed at rest and never shown again."""
    with _changing(slug) as (session, agency):
        profiles.set_twilio_account(session, agency, account_sid, auth_token)
        _record(session, "agency.twilio_set", agency, account_sid.strip())
    click.echo(f"Agency {slug!r} now uses Twilio account {account_sid.strip()}.")


@agencies_group.command("clear-twilio")
@click.argument("slug")
def clear_twilio_command(slug: str) -> None:
    """Go back to the deployment's Twilio account (TWILIO_ACCOUNT_SID) for the agency."""
    with _changing(slug) as (session, agency):
        had = profiles.clear_twilio_account(session, agency)
        if had:
            _record(session, "agency.twilio_cleared", agency)
    click.echo("Twilio account cleared." if had else "The agency had no Twilio account.")
