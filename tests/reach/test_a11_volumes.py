"""The A-11 volumes come from real counts: every interaction, and those offered a survey.

The quarter below is counted by hand (FY2027 Q1, October to December 2026):

| trigger | channel | customer | opportunity | respondent |
| --- | --- | --- | --- | --- |
| A: sampled in, texted, answered | sms | 1 | 1 | 1 |
| B: sampled in, texted, no answer | sms | 1 | 1 | 0 |
| C: sampled in, A's number again (fatigue) | sms | 1 | 0 | 0 |
| D: sampled out | sms | 1 | 0 | 0 |
| E: invalid number (422) | sms | 1 | 0 | 0 |
| F: opted out before | sms | 1 | 0 | 0 |
| G: sampled in, emailed | email | 1 | 1 | 0 |
| H: invalid email address (422) | email | 1 | 0 | 0 |
| I, J: the last day of FY2026 (a texted survey and an invalid number) | sms | - | - | - |

sms: 6 customers, 2 opportunities, 1 respondent; email: 2, 1, 0; web: 0, 0, 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.reach.interactions_support import Clock, keys, open_gateway, post
from tests.sms.support import Gateway

FLOW = "counted"
N1, N2, N3, N4, N5 = (f"+1202555018{n}" for n in range(1, 6))


@pytest.fixture
def gateway(database_url: str) -> Iterator[Gateway]:
    yield from open_gateway(database_url)


def trigger(gateway: Gateway, to: str, key: str, channel: str = "sms") -> int:
    return post(gateway, {"flow": FLOW, "channel": channel, "to": to}, key).status_code


@pytest.fixture
def quarter(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    clock = Clock(monkeypatch)
    sampled = iter(keys(FLOW, 0.5, sampled=True, count=8))
    (left_out,) = keys(FLOW, 0.5, sampled=False, count=1)

    clock.set("2026-09-30T18:00")  # FY2026 Q4: I and J
    assert trigger(gateway, N5, next(sampled)) == 202
    assert trigger(gateway, "+1202", "j") == 422

    clock.set("2026-11-18T15:00")
    gateway.text("STOP", from_=N4)
    assert trigger(gateway, N1, next(sampled)) == 202  # A
    assert trigger(gateway, N2, next(sampled)) == 202  # B
    assert trigger(gateway, N1, next(sampled)) == 202  # C: fatigue
    assert trigger(gateway, N3, left_out) == 202  # D: sampled out
    assert trigger(gateway, "+1202555", "e") == 422  # E
    assert trigger(gateway, N4, next(sampled)) == 202  # F: opted out
    assert trigger(gateway, "someone@example.com", next(sampled), "email") == 202  # G
    assert trigger(gateway, "not-an-address", "h", "email") == 422  # H
    gateway.text("5", from_=N1)  # A answers

    response = gateway.client.get(
        f"/api/v1/reports/a11?flow={FLOW}&fiscal_year=2027&quarter=1",
        headers={"Authorization": f"Bearer {gateway.api_key}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return {row["channel"]: row for row in response.get_json()["collection"]}


def volumes(row: dict[str, Any]) -> tuple[int, int, int]:
    return (
        row["volume_of_customers"],
        row["volume_of_customers_provided_survey_opportunity"],
        row["volume_of_respondents"],
    )


def test_the_sms_volumes_match_the_hand_count(quarter: dict[str, dict[str, Any]]) -> None:
    assert volumes(quarter["sms_text_messages"]) == (6, 2, 1)


def test_the_email_volumes_match_the_hand_count(quarter: dict[str, dict[str, Any]]) -> None:
    assert volumes(quarter["email"]) == (2, 1, 0)


def test_an_unused_channel_reports_zeros(quarter: dict[str, dict[str, Any]]) -> None:
    assert volumes(quarter["website"]) == (0, 0, 0)
