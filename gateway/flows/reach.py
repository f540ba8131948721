"""The flow fields that decide whom to survey and when: ``sampling`` and ``window``.

sampling:
  rate: 0.2                      # share of interactions offered a survey, 0 to 1
  quotas:
    - {per: office, max_completed: 50, period: week}
window:
  days: [mon, tue, wed, thu, fri]
  hours: {start: "09:00", end: "17:00"}    # the same setting as quiet_hours
  blocked_dates: [federal_holidays, 2026-12-24]
  time_zone: America/New_York              # for contacts whose own zone is unknown

docs/reach.md explains each setting.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yaml.nodes import Node, ScalarNode

from gateway.flows.model import QUOTA_PERIODS, WEEKDAYS, ContactWindow, QuietHours, Quota, Sampling
from gateway.flows.nodes import NodeReader, describe
from gateway.flows.sending import read_quiet_hours

SAMPLING_FIELDS = ("rate", "quotas")
QUOTA_FIELDS = ("per", "max_completed", "period")
WINDOW_FIELDS = ("days", "hours", "blocked_dates", "time_zone")
#: The ``blocked_dates`` entry standing for the US federal holidays.
FEDERAL_HOLIDAYS = "federal_holidays"
MAX_QUOTA = 1_000_000


def read_sampling(reader: NodeReader, node: Node, context: tuple[str, ...]) -> Sampling | None:
    fields = reader.mapping(node, "sampling", SAMPLING_FIELDS, prefix="sampling: ")
    if fields is None:
        return None
    rate = _rate(reader, fields["rate"][1]) if "rate" in fields else 1.0
    quotas: tuple[Quota, ...] | None = ()
    if "quotas" in fields:
        quotas = _quotas(reader, fields["quotas"][1], context)
    if rate is None or quotas is None:
        return None
    return Sampling(rate=rate, quotas=quotas)


def _rate(reader: NodeReader, node: Node) -> float | None:
    value = reader.value(node)
    if (
        not isinstance(node, ScalarNode)
        or isinstance(value, bool)
        or not isinstance(value, int | float)
    ):
        reader.error(
            node,
            f"sampling.rate must be a number from 0 to 1 such as 0.2, not {describe(node, value)}",
        )
        return None
    if not 0 <= value <= 1:
        reader.error(
            node,
            f"sampling.rate must be from 0 (nobody) to 1 (everyone), not {node.value}; "
            "for 20% write 0.2",
        )
        return None
    return float(value)


def _quotas(reader: NodeReader, node: Node, context: tuple[str, ...]) -> tuple[Quota, ...] | None:
    items = reader.sequence(node, "sampling.quotas", non_empty=True)
    if items is None:
        return None
    quotas: list[Quota] = []
    for number, item in enumerate(items, start=1):
        what = f"sampling.quotas[{number}]"
        fields = reader.mapping(
            item, what, QUOTA_FIELDS, ("max_completed", "period"), prefix=f"{what}: "
        )
        if fields is None or not {"max_completed", "period"} <= set(fields):
            continue
        most = reader.positive(fields["max_completed"][1], f"{what}.max_completed")
        if most is not None and most > MAX_QUOTA:
            reader.error(fields["max_completed"][1], f"{what}.max_completed is over {MAX_QUOTA:,}")
            most = None
        period = reader.string(fields["period"][1], f"{what}.period")
        if period is not None and period not in QUOTA_PERIODS:
            reader.error(
                fields["period"][1],
                f"{what}.period '{period}' is not a period; use {', '.join(QUOTA_PERIODS)}",
            )
            period = None
        per = None
        if "per" in fields:
            per = reader.string(fields["per"][1], f"{what}.per")
            if per is not None and per not in context:
                declared = ", ".join(context) or "none"
                reader.error(
                    fields["per"][1],
                    f"{what}.per '{per}' is not one of the flow's context names "
                    f"(declared: {declared})",
                )
                per = None
            if per is None:
                continue
        if most is None or period is None:
            continue
        quotas.append(Quota(max_completed=most, period=period, per=per))
    return tuple(quotas) if len(quotas) == len(items) else None


def read_window(reader: NodeReader, node: Node) -> tuple[ContactWindow | None, QuietHours | None]:
    """The window, and its hours (None when it sets none: the flow's ``quiet_hours``)."""
    fields = reader.mapping(node, "window", WINDOW_FIELDS, prefix="window: ")
    if fields is None:
        return None, None
    ok = True
    days: tuple[int, ...] | None = ContactWindow.days
    if "days" in fields:
        days = _days(reader, fields["days"][1])
        ok = ok and days is not None
    hours = None
    if "hours" in fields:
        hours = read_quiet_hours(reader, fields["hours"][1], "window.hours")
        ok = ok and hours is not None
    federal = True
    blocked: tuple[date, ...] = ()
    if "blocked_dates" in fields:
        read = _blocked(reader, fields["blocked_dates"][1])
        ok = ok and read is not None
        federal, blocked = read if read is not None else (True, ())
    zone = None
    if "time_zone" in fields:
        zone = _zone(reader, fields["time_zone"][1])
        ok = ok and zone is not None
    if not ok or days is None:
        return None, None
    return ContactWindow(days, federal, blocked, zone), hours


def _days(reader: NodeReader, node: Node) -> tuple[int, ...] | None:
    items = reader.sequence(node, "window.days", non_empty=True)
    if items is None:
        return None
    days: set[int] = set()
    for item in items:
        name = reader.string(item, "window.days: each day")
        if name is None:
            return None
        if name.lower() not in WEEKDAYS:
            reader.error(item, f"window.days: '{name}' is not a day; use {', '.join(WEEKDAYS)}")
            return None
        if WEEKDAYS.index(name.lower()) in days:
            reader.error(item, f"window.days: '{name}' is listed twice")
            return None
        days.add(WEEKDAYS.index(name.lower()))
    return tuple(sorted(days))


def _blocked(reader: NodeReader, node: Node) -> tuple[bool, tuple[date, ...]] | None:
    items = reader.sequence(node, "window.blocked_dates")
    if items is None:
        return None
    federal = False
    dates: list[date] = []
    for item in items:
        value = reader.value(item)
        if isinstance(value, str) and isinstance(item, ScalarNode):
            if value == FEDERAL_HOLIDAYS:
                federal = True
                continue
            try:
                value = date.fromisoformat(value)
            except ValueError:
                pass
        if not isinstance(value, date) or isinstance(value, datetime):
            reader.error(
                item,
                f"window.blocked_dates: each entry is a date such as 2026-12-24 or "
                f"'{FEDERAL_HOLIDAYS}', not {describe(item, reader.value(item))}",
            )
            return None
        dates.append(value)
    return federal, tuple(sorted(set(dates)))


def _zone(reader: NodeReader, node: Node) -> str | None:
    name = reader.string(node, "window.time_zone")
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America", a folder
        reader.error(
            node, f"window.time_zone '{name}' is not a time zone name such as America/New_York"
        )
        return None
    return name
