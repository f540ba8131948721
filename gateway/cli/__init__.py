"""The `gateway` command (contract section 4). One module per command group."""

from __future__ import annotations

import click

from gateway.cli.run import run_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Omnichannel feedback gateway."""


main.add_command(run_command)
