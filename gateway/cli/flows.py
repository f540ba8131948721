"""`gateway flows check`: validate flow files as the gateway would load them."""

from __future__ import annotations

from pathlib import Path

import click

from config.settings import Settings
from gateway.flows.errors import FlowError
from gateway.flows.registry import FlowRegistry, flow_files


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
