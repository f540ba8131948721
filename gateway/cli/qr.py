"""`gateway qr`: the in-person kit for a flow (QR code as SVG and PNG, printable poster)."""

from __future__ import annotations

from pathlib import Path

import click

from config.settings import Settings
from gateway.flows.registry import FlowRegistry
from gateway.web.qr import write_kit


@click.command("qr")
@click.argument("flow_id", metavar="FLOW")
@click.option("--location", required=True, help="Location code recorded with each answer.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory to write the files into.",
)
@click.option("--base-url", default=None, help="Public origin (default: PUBLIC_BASE_URL).")
@click.option("--sms-number", default=None, help="Number to text (default: TWILIO_PHONE_NUMBER).")
def qr_command(
    flow_id: str, location: str, out_dir: Path, base_url: str | None, sms_number: str | None
) -> None:
    """Write a QR code and a poster that open FLOW's web survey at a location.

    The code points at BASE_URL/f/FLOW?location=CODE; the poster also names the flow's
    start keyword and the SMS number, for people who would rather text.
    """
    settings = Settings.from_env()
    base = (base_url or settings.public_base_url or "").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise click.UsageError(
            "set PUBLIC_BASE_URL or pass --base-url https://feedback.example.gov: "
            "the QR code must hold the gateway's public address"
        )
    registry = FlowRegistry.load_directory(settings.flows_dir)
    flow = registry.get(flow_id)
    if flow is None:
        known = ", ".join(sorted(registry.flows)) or "none"
        raise click.UsageError(f"no flow {flow_id!r} in {settings.flows_dir} (flows: {known})")
    if "web" not in flow.channels:
        raise click.UsageError(f"flow {flow_id!r} does not offer the web channel")
    try:
        kit = write_kit(
            flow,
            location,
            base,
            out_dir,
            sms_number=sms_number or settings.twilio_phone_number,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"QR code for {kit.url}")
    for path in (kit.svg, kit.png, kit.poster):
        click.echo(str(path))
