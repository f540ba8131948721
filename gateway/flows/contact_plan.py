"""The contact plan a flow may set: ``reminders`` and ``fallback`` (docs/reach.md).

reminders:                      # at most 3; each after the first contact, in order
  - after: 4h
  - after: 1d
    text: {en: "...", es: "..."}    # optional; the catalog's reminder wording otherwise
fallback:
  - channel: email              # no answer 24 hours after the first text: email the link
    after: 24h                  # (the trigger gives the address in fallback_to.email)
  - channel: voice              # the first text cannot be delivered: call the number
    reason: undeliverable

Every delay counts from the first contact and must end before the survey expires.
"""

from __future__ import annotations

import re
from datetime import timedelta

from yaml.nodes import Node

from gateway.flows.model import CHANNELS, FALLBACK_CAUSES, Fallback, Reminder
from gateway.flows.texts import TextReader

MAX_REMINDERS = 3
DELAY = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
#: The shortest delay: a reminder minutes after the first text is a second text, not one.
MIN_DELAY = timedelta(minutes=30)
#: Fallback channels, by the channel of the first contact they follow.
FALLBACK_CHANNELS = {"no_answer": ("email",), "undeliverable": ("voice",)}


def _delay(reader: TextReader, node: Node, what: str) -> timedelta | None:
    text = reader.string(node, what)
    if text is None:
        return None
    match = DELAY.fullmatch(text.strip())
    if not match or not any(match.groups()):
        reader.error(node, f"{what} '{text}' is not a delay such as 30m, 4h, 1d or 1d12h")
        return None
    days, hours, minutes = (int(g or 0) for g in match.groups())
    delay = timedelta(days=days, hours=hours, minutes=minutes)
    if delay < MIN_DELAY:
        reader.error(node, f"{what} '{text}' is too short; the shortest delay is 30m")
        return None
    return delay


def _before_expiry(
    reader: TextReader, node: Node, what: str, delay: timedelta, expires: timedelta | None
) -> bool:
    if expires is not None and delay >= expires:
        reader.error(
            node,
            f"{what} {_shown(delay)} is not before the survey expires (expires_after "
            f"{_shown(expires)}); shorten it or lengthen expires_after",
        )
        return False
    return True


def _shown(delay: timedelta) -> str:
    hours, rest = divmod(int(delay.total_seconds()) // 60, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{rest}m" if rest else ""]
    return "".join(parts) or "0m"


def read_reminders(
    reader: TextReader, node: Node, expires: timedelta | None
) -> tuple[Reminder, ...]:
    items = reader.sequence(node, "reminders")
    if items is None:
        return ()
    if len(items) > MAX_REMINDERS:
        reader.error(
            items[MAX_REMINDERS],
            f"reminders: at most {MAX_REMINDERS}; more reminders wear out respondents",
        )
        return ()
    reminders: list[Reminder] = []
    last: timedelta | None = None
    for index, item in enumerate(items, start=1):
        what = f"reminders: reminder {index}"
        fields = reader.mapping(item, what, ("after", "text"), ("after",), prefix=f"{what}: ")
        if fields is None or "after" not in fields:
            continue
        after_node = fields["after"][1]
        after = _delay(reader, after_node, f"{what}: after")
        text = reader.text(fields["text"][1], f"{what}: text") if "text" in fields else None
        if after is None or not _before_expiry(
            reader, after_node, f"{what}: after", after, expires
        ):
            continue
        if last is not None and after <= last:
            reader.error(
                after_node,
                f"{what}: after {_shown(after)} must come later than the reminder before it "
                f"({_shown(last)}); each delay counts from the first contact",
            )
            continue
        last = after
        if "text" in fields and text is None:
            continue
        reminders.append(Reminder(after=after, text=text))
    return tuple(reminders)


def read_fallback(
    reader: TextReader, node: Node, channels: tuple[str, ...], expires: timedelta | None
) -> tuple[Fallback, ...]:
    items = reader.sequence(node, "fallback")
    if items is None:
        return ()
    result: list[Fallback] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items, start=1):
        what = f"fallback: entry {index}"
        fields = reader.mapping(
            item, what, ("channel", "after", "reason"), ("channel",), prefix=f"{what}: "
        )
        if fields is None or "channel" not in fields:
            continue
        reason = "no_answer"
        if "reason" in fields:
            cause = reader.string(fields["reason"][1], f"{what}: reason")
            if cause is None:
                continue
            if cause not in FALLBACK_CAUSES:
                reader.error(
                    fields["reason"][1],
                    f"{what}: reason '{cause}' is not one; use {' or '.join(FALLBACK_CAUSES)}",
                )
                continue
            reason = cause
        channel_node = fields["channel"][1]
        channel = reader.string(channel_node, f"{what}: channel")
        if channel is None:
            continue
        allowed = FALLBACK_CHANNELS[reason]
        if channel not in allowed:
            reader.error(
                channel_node,
                f"{what}: channel '{channel}' cannot be the fallback for {reason}; "
                f"use {', '.join(allowed)} (after an SMS first contact)",
            )
            continue
        if channel not in channels:
            reader.error(
                channel_node,
                f"{what}: channel '{channel}' is not among the flow's channels "
                f"({', '.join(channels)}); add it there so the survey can run on it",
            )
            continue
        if reason in seen:
            reader.error(
                item, f"{what}: a second fallback for {reason} (entry {seen[reason]} is one)"
            )
            continue
        after = None
        if reason == "no_answer":
            if "after" not in fields:
                reader.error(item, f"{what}: missing required field 'after' (the delay)")
                continue
            after_node = fields["after"][1]
            after = _delay(reader, after_node, f"{what}: after")
            if after is None or not _before_expiry(
                reader, after_node, f"{what}: after", after, expires
            ):
                continue
        elif "after" in fields:
            reader.error(
                fields["after"][0],
                f"{what}: 'after' does not apply to reason undeliverable; "
                "the fallback is made at once",
            )
            continue
        seen[reason] = index
        result.append(
            Fallback(channel=next(c for c in CHANNELS if c == channel), reason=reason, after=after)
        )
    return tuple(result)
