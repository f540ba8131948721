"""The sending rules a flow may set: ``quiet_hours``, ``fatigue_days`` and ``sender``.

quiet_hours: {start: "08:00", end: "21:00"}   # respondent's local time; end excluded
fatigue_days: 30                               # 0: no limit
sender: "+12025550100"                         # or {sms: "MG...", voice: "+12025550100"}
"""

from __future__ import annotations

import re
from datetime import time

from yaml.nodes import MappingNode, Node

from gateway.flows.model import FlowSender, QuietHours
from gateway.flows.nodes import NodeReader

CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
#: A sender a flow may name: an E.164 number, or (texts only) a Messaging Service SID.
PHONE_NUMBER = re.compile(r"\+[1-9][0-9]{6,14}")
SERVICE_SID = re.compile(r"MG[0-9a-f]{32}")
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


def _address(reader: NodeReader, node: Node, channel: str) -> str | None:
    text = reader.string(node, f"sender.{channel}")
    if text is None:
        return None
    if PHONE_NUMBER.fullmatch(text) or (channel == "sms" and SERVICE_SID.fullmatch(text)):
        return text
    kinds = "an E.164 number like +12025550100"
    if channel == "sms":
        kinds += " or a Messaging Service SID (MG and 32 hex digits)"
    reader.error(node, f"sender.{channel} {text!r} is not {kinds}")
    return None


def read_sender(reader: NodeReader, node: Node) -> FlowSender | None:
    """``sender: "+1..."`` (texts and calls from that number; a Messaging Service SID for
    texts only) or ``sender: {sms: ..., voice: ...}``."""
    if isinstance(reader.value(node), str):
        text = reader.string(node, "sender") or ""
        if SERVICE_SID.fullmatch(text):
            return FlowSender(sms=text)
        number = _address(reader, node, "sms")
        return None if number is None else FlowSender(sms=number, voice=number)
    if not isinstance(node, MappingNode):
        reader.error(
            node,
            'sender must be a quoted number like "+12025550100", a Messaging Service SID, '
            "or {sms: ..., voice: ...}",
        )
        return None
    fields = reader.mapping(node, "sender", ("sms", "voice"), (), prefix="sender: ")
    if fields is None:
        return None
    if not fields:
        reader.error(node, "sender names an sms or a voice sender, or both")
        return None
    sms = _address(reader, fields["sms"][1], "sms") if "sms" in fields else None
    voice = _address(reader, fields["voice"][1], "voice") if "voice" in fields else None
    if ("sms" in fields and sms is None) or ("voice" in fields and voice is None):
        return None
    return FlowSender(sms=sms, voice=voice)
