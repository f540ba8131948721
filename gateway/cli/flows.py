"""`gateway flows check`: validate flow files as the gateway would load them.

A flow's ``sender:`` must name a sender its agency registered (``gateway agencies
add-sender``). That is checked against the database when ``DATABASE_URL`` is set (the
deployment's, or one migrated for the check); without it the check says it was skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from config.settings import Settings
from gateway.agencies.senders import unowned
from gateway.flows.errors import FlowError
from gateway.flows.registry import FlowRegistry, flow_files
from gateway.store.db import Database


@click.group("flows")
def flows_group() -> None:
    """Work with flow files."""


@flows_group.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def check_command(paths: tuple[Path, ...]) -> None:
    """Validate flow files (files or directories; default: FLOWS_DIR).

    Prints one `file:line:col: message` line per error and warning. Files checked together
    must not share a flow id or a start keyword. Exits 1 when any file is refused.
    """
    files: list[Path] = []
    missing: list[FlowError] = []
    for path in paths or (Settings.from_env().flows_dir,):
        if path.is_dir():
            files.extend(flow_files(path))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(FlowError(str(path), 1, 1, "no such file or directory"))
    registry = FlowRegistry.load_files(dict.fromkeys(files))
    _check_senders(registry)

    problems = missing + [e for errors in registry.refused.values() for e in errors]
    problems += [w for warnings in registry.warnings.values() for w in warnings]
    for problem in sorted(problems, key=lambda p: (p.path, p.line, p.col)):
        click.echo(str(problem))

    checked = len(registry.files)
    refused = len(registry.refused)
    warned = sum(len(w) for w in registry.warnings.values())
    noun = "file" if checked == 1 else "files"
    summary = f"{checked} {noun} checked: {checked - refused} valid, {refused} refused"
    if warned:
        summary += f", {warned} warning{'' if warned == 1 else 's'}"
    if missing:
        summary += f"; {len(missing)} path{'' if len(missing) == 1 else 's'} not found"
    click.echo(summary, err=True)
    if refused or missing:
        raise SystemExit(1)


def _sender_line(path: Path) -> int:
    """The line of the flow file's top-level ``sender:`` field (1 when not found)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((n for n, line in enumerate(lines, 1) if line.startswith("sender:")), 1)


def _check_senders(registry: FlowRegistry) -> None:
    """Refuse each flow naming a sender its agency did not register (in the database at
    ``DATABASE_URL``); without ``DATABASE_URL``, say that the senders were not checked."""
    naming = [flow for flow in registry.flows.values() if flow.sender is not None]
    if not naming:
        return
    if not os.environ.get("DATABASE_URL", "").strip():
        click.echo(
            f"{len(naming)} flow(s) name a sender: not checked against the agencies' senders "
            "(set DATABASE_URL to check them)",
            err=True,
        )
        return
    database = Database(Settings.from_env().database_url)
    try:
        with database.session() as session:
            for flow in naming:
                assert flow.sender is not None
                named: dict[str, str | None] = {"sms": flow.sender.sms, "voice": flow.sender.voice}
                wanted: dict[str, str | None] = {
                    ch: address for ch, address in named.items() if ch in flow.channels
                }
                problems = unowned(session, flow.agency, wanted)
                if problems:
                    path = Path(flow.source_path)
                    line = _sender_line(path)
                    registry.refused[path] = [
                        FlowError(str(path), line, 1, problem) for problem in problems
                    ]
                    del registry.flows[flow.id]
    finally:
        database.dispose()
