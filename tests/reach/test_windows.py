"""Survey windows: days, hours and blocked dates in the respondent's zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time
from zoneinfo import ZoneInfo

import pytest

from gateway.flows.loader import load_flow_text
from gateway.flows.model import ContactWindow, QuietHours
from gateway.reach.windows import federal_holidays, next_allowed
from gateway.sending.sweeper import sweep
from gateway.store.models import Message
from tests.reach.interactions_support import Clock, open_gateway, post, utc
from tests.sms.support import Gateway

NEW_YORK = ZoneInfo("America/New_York")
OFFICE_HOURS = QuietHours(time(9, 0), time(17, 0))
WEEKDAYS = ContactWindow(days=(0, 1, 2, 3, 4))
WASHINGTON = "+12025550171"  # America/New_York
LOS_ANGELES = "+12135550171"  # America/Los_Angeles


def test_the_federal_calendar_has_the_holidays_of_5_usc_6103_and_their_observed_days() -> None:
    days = federal_holidays(2026)
    assert date(2026, 11, 26) in days  # Thanksgiving
    assert date(2026, 7, 3) in days  # Independence Day falls on a Saturday: observed Friday
    assert date(2026, 6, 19) in days  # Juneteenth
    assert date(2026, 11, 25) not in days
    assert date(2025, 12, 24) in federal_holidays(2025)  # closed by executive order


def test_inside_the_window_a_contact_is_made_at_once() -> None:
    wednesday = utc("2026-11-18T15:00")  # 10:00 in New York
    assert next_allowed(NEW_YORK, OFFICE_HOURS, WEEKDAYS, wednesday) is None


def test_a_saturday_waits_for_monday_morning() -> None:
    saturday = utc("2026-11-21T15:00")
    assert next_allowed(NEW_YORK, OFFICE_HOURS, WEEKDAYS, saturday) == utc("2026-11-23T14:00")


def test_friday_evening_waits_for_monday_morning() -> None:
    friday_evening = utc("2026-11-20T23:00")  # 18:00 in New York
    assert next_allowed(NEW_YORK, OFFICE_HOURS, WEEKDAYS, friday_evening) == utc("2026-11-23T14:00")


def test_thanksgiving_waits_for_the_next_morning_by_default() -> None:
    thanksgiving = utc("2026-11-26T15:00")
    assert next_allowed(NEW_YORK, OFFICE_HOURS, ContactWindow(), thanksgiving) == utc(
        "2026-11-27T14:00"
    )


def test_a_flow_may_block_its_own_dates_and_unblock_the_holidays() -> None:
    own = ContactWindow(federal_holidays=False, blocked_dates=(date(2026, 11, 27),))
    thanksgiving = utc("2026-11-26T15:00")
    assert next_allowed(NEW_YORK, OFFICE_HOURS, own, thanksgiving) is None
    evening = utc("2026-11-26T23:00")
    assert next_allowed(NEW_YORK, OFFICE_HOURS, own, evening) == utc("2026-11-28T14:00")


def test_the_window_follows_daylight_saving_time() -> None:
    sunday_of_the_change = utc("2026-11-01T12:00")  # 07:00 EST, clocks went back at 02:00
    assert next_allowed(NEW_YORK, OFFICE_HOURS, ContactWindow(), sunday_of_the_change) == utc(
        "2026-11-01T14:00"
    )


# -- sends through the API, with quiet hours on ---------------------------------------


@pytest.fixture
def gateway(database_url: str) -> Iterator[Gateway]:
    yield from open_gateway(database_url, quiet_hours=True)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def send(gateway: Gateway, flow: str, to: str, channel: str = "sms") -> dict[str, object]:
    response = post(gateway, {"flow": flow, "channel": channel, "to": to})
    assert response.status_code == 202, response.get_data(as_text=True)
    return gateway.survey(response.get_json()["id"])


def test_a_weekend_trigger_is_deferred_to_monday_in_the_respondents_zone(
    gateway: Gateway, clock: Clock
) -> None:
    clock.set("2026-11-21T18:00")  # Saturday
    east = send(gateway, "weekdays", WASHINGTON)
    west = send(gateway, "weekdays", LOS_ANGELES)
    assert (east["status"], east["send_at"]) == ("scheduled", "2026-11-23T14:00:00Z")
    assert (west["status"], west["send_at"]) == ("scheduled", "2026-11-23T17:00:00Z")
    assert gateway.messages(Message.direction == "outbound") == []


def test_a_trigger_on_a_federal_holiday_waits_for_the_next_day(
    gateway: Gateway, clock: Clock
) -> None:
    clock.set("2026-11-26T16:00")  # Thanksgiving, 11:00 in Washington
    held = send(gateway, "anyday", WASHINGTON)
    assert (held["status"], held["send_at"]) == ("scheduled", "2026-11-27T13:00:00Z")


def test_a_flows_own_blocked_date_is_skipped(gateway: Gateway, clock: Clock) -> None:
    clock.set("2026-12-24T15:00")  # Thursday, blocked by the flow
    held = send(gateway, "weekdays", WASHINGTON)
    assert held["send_at"] == "2026-12-28T14:00:00Z"  # Friday the 25th is Christmas


def test_the_deferred_survey_is_sent_when_the_window_opens(gateway: Gateway, clock: Clock) -> None:
    clock.set("2026-11-21T18:00")
    held = send(gateway, "weekdays", WASHINGTON)
    clock.set("2026-11-23T14:00")
    sweep(gateway.app, now=clock.now)
    assert gateway.survey(str(held["id"]))["status"] == "sent"
    assert len(gateway.outbound(str(held["id"]))) == 1


def test_email_is_held_in_the_flows_time_zone(gateway: Gateway, clock: Clock) -> None:
    clock.set("2026-11-21T18:00")  # Saturday
    held = send(gateway, "weekdays", "someone@example.com", channel="email")
    assert (held["status"], held["send_at"]) == ("scheduled", "2026-11-23T15:00:00Z")  # Chicago


def test_email_without_a_flow_time_zone_is_not_held(gateway: Gateway, clock: Clock) -> None:
    clock.set("2026-11-26T16:00")  # Thanksgiving
    sent = send(gateway, "anyday", "someone@example.com", channel="email")
    assert sent["status"] == "sent"


FLOW = """\
id: bad-window
version: 1
title: Bad
agency: dmv
{extra}
questions:
  - id: q
    type: yesno
    prompt: Q?
"""


@pytest.mark.parametrize(
    ("extra", "position", "message"),
    [
        ("window: {days: [mon, funday]}", "5:22", "window.days: 'funday' is not a day"),
        ("window: {days: []}", "5:16", "window.days must not be empty"),
        (
            'window: {hours: {start: "18:00", end: "09:00"}}',
            "5:17",
            "window.hours.start 18:00 must be before window.hours.end 09:00",
        ),
        ("window: {blocked_dates: [xmas]}", "5:26", "window.blocked_dates: each entry is a date"),
        ("window: {time_zone: Mars/Olympus}", "5:21", "window.time_zone 'Mars/Olympus' is not"),
        ("window: {weekdays: [mon]}", "5:10", "unknown field 'weekdays'"),
        (
            'quiet_hours: {start: "08:00", end: "21:00"}\n'
            'window: {hours: {start: "09:00", end: "17:00"}}',
            "5:14",
            "quiet_hours and window.hours are the same setting",
        ),
    ],
)
def test_a_bad_window_is_refused_at_its_line_and_column(
    extra: str, position: str, message: str
) -> None:
    result = load_flow_text(FLOW.format(extra=extra), "bad.yaml")
    assert result.flow is None
    assert any(f"bad.yaml:{position}:" in str(e) and message in str(e) for e in result.errors), [
        str(e) for e in result.errors
    ]


def test_window_hours_are_the_flows_hours() -> None:
    extra = 'window: {days: [sat, sun], hours: {start: "10:00", end: "14:00"}}'
    flow = load_flow_text(FLOW.format(extra=extra), "good.yaml").flow
    assert flow is not None and flow.window is not None
    assert flow.quiet_hours == QuietHours(time(10), time(14))
    assert flow.window.days == (5, 6)


def test_listing_blocked_dates_replaces_the_federal_holidays_unless_named() -> None:
    def window(extra: str) -> ContactWindow:
        flow = load_flow_text(FLOW.format(extra=extra), "good.yaml").flow
        assert flow is not None and flow.window is not None
        return flow.window

    assert window("window: {blocked_dates: []}").federal_holidays is False
    assert window("window: {blocked_dates: [2026-12-24]}").blocked_dates == (date(2026, 12, 24),)
    assert window("window: {blocked_dates: [2026-12-24]}").federal_holidays is False
    assert window("window: {blocked_dates: [federal_holidays]}").federal_holidays is True
    assert window("window: {days: [mon]}").federal_holidays is True


def test_with_quiet_hours_off_the_window_does_not_hold(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    clock.set("2026-11-21T18:00")  # Saturday, outside the weekdays flow's days
    for gateway in open_gateway(database_url, quiet_hours=False):
        assert send(gateway, "weekdays", WASHINGTON)["status"] == "sent"
