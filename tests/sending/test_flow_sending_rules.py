"""The flow fields `quiet_hours` and `fatigue_days`: read, and refused with the reason."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from gateway.flows.registry import FlowRegistry

FLOW = """\
id: rules
version: 1
title: Rules
agency: dmv
{extra}
questions:
  - id: satisfied
    type: rating
    prompt: How satisfied were you?
"""


def load(tmp_path: Path, extra: str) -> tuple[FlowRegistry, list[str]]:
    (tmp_path / "rules.yaml").write_text(FLOW.format(extra=extra))
    registry = FlowRegistry.load_directory(tmp_path)
    errors = [str(e) for errors in registry.refused.values() for e in errors]
    return registry, errors


def test_a_flow_sets_its_window_and_fatigue(tmp_path: Path) -> None:
    registry, errors = load(
        tmp_path, 'quiet_hours: {start: "09:30", end: "18:00"}\nfatigue_days: 14'
    )
    assert errors == []
    flow = registry.flows["rules"]
    assert flow.quiet_hours is not None
    assert (flow.quiet_hours.start, flow.quiet_hours.end) == (time(9, 30), time(18, 0))
    assert flow.fatigue_days == 14


def test_a_flow_without_them_takes_the_defaults(tmp_path: Path) -> None:
    registry, _errors = load(tmp_path, "")
    assert (registry.flows["rules"].quiet_hours, registry.flows["rules"].fatigue_days) == (
        None,
        None,
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('quiet_hours: {start: 8:00, end: "21:00"}', 'must be quoted text like "08:00"'),
        ('quiet_hours: {start: "8am", end: "21:00"}', "is not a time of day"),
        ('quiet_hours: {start: "21:00", end: "08:00"}', "must be before quiet_hours.end"),
        ('quiet_hours: {start: "08:00"}', "missing required field 'end'"),
        ("fatigue_days: -1", "fatigue_days must be 0 (no limit) to 365"),
        ("fatigue_days: soon", "fatigue_days must be an integer"),
    ],
)
def test_a_bad_rule_is_refused_saying_what_to_write(
    tmp_path: Path, extra: str, message: str
) -> None:
    registry, errors = load(tmp_path, extra)
    assert "rules" not in registry.flows
    assert any(message in error for error in errors), errors
