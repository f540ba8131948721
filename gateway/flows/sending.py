"""The sending rules a flow may set: ``quiet_hours`` and ``fatigue_days``.

quiet_hours: {start: "08:00", end: "21:00"}   # respondent's local time; end excluded
fatigue_days: 30                               # 0: no limit
"""

from __future__ import annotations

import re
from datetime import time

from yaml.nodes import Node

from gateway.flows.model import QuietHours
from gateway.flows.nodes import NodeReader

CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
MAX_FATIGUE_DAYS = 365


def _clock(reader: NodeReader, node: Node, what: str) -> time | None:
    value = reader.value(node)
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads 8:00 as the number 480 (base 60).
        reader.error(node, f'{what} must be quoted text like "08:00", not the number {value}')
        return None
    text = reader.string(node, what)
    if text is None:
        return None
    match = CLOCK.fullmatch(text.strip())
    if match is None:
        reader.error(node, f"{what} '{text}' is not a time of day like \"08:00\" (24-hour HH:MM)")
        return None
    return time(int(match[1]), int(match[2]))


def read_quiet_hours(
    reader: NodeReader, node: Node, what: str = "quiet_hours"
) -> QuietHours | None:
    """``what`` names the field in messages (``window.hours`` is the same setting)."""
    fields = reader.mapping(node, what, ("start", "end"), ("start", "end"), prefix=f"{what}: ")
    if fields is None or set(fields) != {"start", "end"}:
        return None
    start = _clock(reader, fields["start"][1], f"{what}.start")
    end = _clock(reader, fields["end"][1], f"{what}.end")
    if start is None or end is None:
        return None
    if start >= end:
        reader.error(
            node,
            f"{what}.start {start:%H:%M} must be before {what}.end {end:%H:%M} "
            "(a sending window within one day)",
        )
        return None
    return QuietHours(start, end)


def read_fatigue_days(reader: NodeReader, node: Node) -> int | None:
    days = reader.integer(node, "fatigue_days")
    if days is None:
        return None
    if not 0 <= days <= MAX_FATIGUE_DAYS:
        reader.error(node, f"fatigue_days must be 0 (no limit) to {MAX_FATIGUE_DAYS}, not {days}")
        return None
    return days
