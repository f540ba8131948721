"""Quiet hours: surveys start only in the respondent's local daytime."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.flows.model import QuietHours
from gateway.sending import quiet_hours, starters, texts
from gateway.services import queue
from gateway.store.db import db_of
from gateway.store.models import Message, Survey
from tests.sms.support import Gateway, make_gateway

FLOWS = Path(__file__).resolve().parents[1] / "support" / "flows"
WASHINGTON = "+12025550140"  # America/New_York
HONOLULU = "+18085550140"  # Pacific/Honolulu
DAY = QuietHours(time(8, 0), time(21, 0))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_time_inside_the_local_window_is_not_held() -> None:
    # 15:00 UTC is 10:00 in Washington in November.
    assert quiet_hours.next_open(ZoneInfo("America/New_York"), DAY, utc("2026-11-25T15:00")) is None


def test_late_evening_is_held_to_eight_the_next_morning_local_time() -> None:
    later = quiet_hours.next_open(ZoneInfo("America/New_York"), DAY, utc("2026-11-26T03:00"))
    assert later == utc("2026-11-26T13:00")  # 08:00 EST


def test_early_morning_is_held_to_eight_the_same_day() -> None:
    later = quiet_hours.next_open(ZoneInfo("Pacific/Honolulu"), DAY, utc("2026-11-25T15:00"))
    assert later == utc("2026-11-25T18:00")  # 05:00 HST, held to 08:00 HST


def test_a_number_with_many_zones_is_timed_in_its_westernmost() -> None:
    toll_free = "+18005550140"  # every zone of the North American plan
    zone = quiet_hours.zone_of(toll_free, utc("2026-11-25T15:00"))
    assert zone is not None
    offset = utc("2026-11-25T15:00").astimezone(zone).utcoffset()
    assert offset == timedelta(hours=-11)  # Pago Pago: nobody is texted before their 08:00


@pytest.fixture
def gateway(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    gw = make_gateway(database_url, flows_dir=FLOWS, quiet_hours=True)
    yield gw
    db_of(gw.app).dispose()


def trigger(gateway: Gateway, to: str, flow: str = "follow-up") -> str:
    response = gateway.client.post(
        "/api/v1/surveys",
        json={"flow": flow, "channel": "sms", "to": to},
        headers={"Authorization": f"Bearer {gateway.api_key}"},
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    survey_id: str = response.get_json()["id"]
    return survey_id


def at(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    """The clock of the hold and of the job queue's due check."""
    monkeypatch.setattr(quiet_hours, "utcnow", lambda: when)
    for module in (queue, starters, texts):
        monkeypatch.setattr(module, "utcnow", lambda: when)


def test_a_trigger_at_night_is_scheduled_for_the_morning_and_nothing_is_sent(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, utc("2026-11-25T03:00"))  # 22:00 in Washington (the next day is no holiday)
    survey_id = trigger(gateway, WASHINGTON)
    survey = gateway.survey(survey_id)
    assert survey["status"] == "scheduled"
    assert survey["send_at"] == "2026-11-25T13:00:00Z"
    assert gateway.messages(Message.direction == "outbound") == []


def test_a_trigger_in_the_afternoon_is_sent_at_once(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, utc("2026-11-25T19:00"))  # 14:00 in Washington
    survey_id = trigger(gateway, WASHINGTON)
    assert gateway.survey(survey_id)["status"] == "sent"


def test_the_same_moment_is_daytime_in_washington_and_night_in_honolulu(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, utc("2026-11-25T15:00"))  # 10:00 EST, 05:00 HST
    assert gateway.survey(trigger(gateway, WASHINGTON))["status"] == "sent"
    assert gateway.survey(trigger(gateway, HONOLULU))["status"] == "scheduled"


def test_a_flow_sets_its_own_window(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, utc("2026-11-25T14:00"))  # 09:00 in Washington; the flow starts at 10:00
    survey = gateway.survey(trigger(gateway, WASHINGTON, flow="daytime"))
    assert (survey["status"], survey["send_at"]) == ("scheduled", "2026-11-25T15:00:00Z")


def test_a_held_survey_keeps_its_whole_time_to_answer(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, utc("2026-11-26T03:00"))
    survey_id = trigger(gateway, WASHINGTON)
    (survey,) = gateway.rows(Survey, Survey.id == survey_id)
    assert survey.send_at is not None and survey.expires_at is not None
    assert survey.expires_at > survey.send_at
