"""The `gateway` command (contract section 4). One module per command group."""

from __future__ import annotations

import click

from gateway.cli.agencies import agencies_group
from gateway.cli.audit import audit_group
from gateway.cli.comments import comments_group
from gateway.cli.db import db_group
from gateway.cli.flows import flows_group
from gateway.cli.keys import keys_group
from gateway.cli.privacy import privacy_group
from gateway.cli.qr import qr_command
from gateway.cli.run import run_command
from gateway.cli.simulate import simulate_command
from gateway.cli.sms import sms_group
from gateway.cli.staff import staff_group
from gateway.cli.worker import worker_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Omnichannel feedback gateway."""


main.add_command(run_command)
main.add_command(flows_group)
main.add_command(simulate_command)
main.add_command(db_group)
main.add_command(keys_group)
main.add_command(agencies_group)
main.add_command(worker_command)
main.add_command(sms_group)
main.add_command(qr_command)
main.add_command(staff_group)
main.add_command(audit_group)
main.add_command(privacy_group)
main.add_command(comments_group)
