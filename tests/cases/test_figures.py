"""Case figures: time to first action and to resolution per flow, office and priority,
cases resolved in time, and the share of low scores with a case; API and dashboard."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.api import cases as api_cases
from tests.cases.conftest import ANALYST, VIEWER, answer_survey, api
from tests.cases.test_dashboard_cases import signed_in
from tests.sms.support import Gateway

OCTOBER = "from=2026-10-01&to=2026-10-31"


def _at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(api_cases, "utcnow", lambda: moment)


def test_a_case_resolved_before_its_due_time_counts_as_resolved_in_time(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer_survey(gateway, "1", "yes")  # opened Monday 5 October 14:03, due Wednesday
    answer_survey(gateway, "5", "yes")  # not a low score
    second = answer_survey(gateway, "2", "no")  # a low score: a second case, left open
    listed = gateway.client.get("/api/v1/cases", headers=api(gateway)).get_json()["data"]
    (case,) = [c for c in listed if c["survey_id"] != second]
    url = f"/api/v1/cases/{case['id']}"
    _at(monkeypatch, datetime(2026, 10, 5, 16, 3, tzinfo=UTC))
    gateway.client.patch(url, json={"assignee": ANALYST}, headers=api(gateway))
    _at(monkeypatch, datetime(2026, 10, 6, 14, 3, tzinfo=UTC))
    gateway.client.patch(
        url, json={"status": "resolved", "resolution": "fixed"}, headers=api(gateway)
    )

    found = gateway.client.get(f"/api/v1/cases/figures?{OCTOBER}", headers=api(gateway)).get_json()
    (flow_row,) = [r for r in found["by_flow"] if r["key"] == "office-followup"]
    assert flow_row["opened"] == 2 and flow_row["resolved"] == 1
    assert flow_row["resolved_in_time"] == 1
    (high,) = [r for r in found["by_priority"] if r["key"] == "high"]
    assert (high["hours_to_first_action"], high["hours_to_resolution"]) == (2.0, 24.0)
    assert high["resolved_in_time_share"] == 100.0
    (office,) = found["by_office"]
    assert office["key"] == "Downtown"
    (low,) = [r for r in found["low_scores"] if r["flow"] == "office-followup"]
    assert (low["low_scores"], low["with_case"]) == (2, 2)


def test_a_staff_opened_case_on_a_good_score_is_not_a_low_score(gateway: Gateway) -> None:
    answer_survey(gateway, "1", "yes")
    good = answer_survey(gateway, "4", "yes")
    gateway.client.post("/api/v1/cases", json={"survey_id": good}, headers=api(gateway))
    found = gateway.client.get(f"/api/v1/cases/figures?{OCTOBER}", headers=api(gateway)).get_json()
    (low,) = [r for r in found["low_scores"] if r["flow"] == "office-followup"]
    assert (low["low_scores"], low["with_case"], low["share"]) == (1, 1, 100.0)
    none = gateway.client.get(
        "/api/v1/cases/figures?from=2026-11-01&to=2026-11-30", headers=api(gateway)
    ).get_json()
    assert none["by_flow"] == []
    bad = gateway.client.get("/api/v1/cases/figures?from=someday", headers=api(gateway))
    assert bad.status_code == 400 and bad.get_json()["error"]["details"]["field"] == "from"


def test_the_dashboard_shows_the_figures_to_viewers(gateway: Gateway) -> None:
    answer_survey(gateway, "1", "yes")
    html = (
        signed_in(gateway, VIEWER).get(f"/dashboard/cases/figures?{OCTOBER}").get_data(as_text=True)
    )
    assert "Mean hours to resolution by flow" in html
    assert '<th scope="row">Downtown</th>' in html


def test_the_share_of_low_scores_with_a_case_counts_those_staff_opened(
    gateway: Gateway,
) -> None:
    answer_survey(gateway, "1", "yes", flow="office-narrow")  # a case by the rule
    two = answer_survey(gateway, "2", "yes", flow="office-narrow")  # low, no case
    answer_survey(gateway, "3", "yes", flow="office-narrow")  # not low

    def share() -> tuple[int, int, float | None]:
        found = gateway.client.get(
            f"/api/v1/cases/figures?{OCTOBER}", headers=api(gateway)
        ).get_json()
        (row,) = [r for r in found["low_scores"] if r["flow"] == "office-narrow"]
        return row["low_scores"], row["with_case"], row["share"]

    assert share() == (2, 1, 50.0)
    gateway.client.post("/api/v1/cases", json={"survey_id": two}, headers=api(gateway))
    assert share() == (2, 2, 100.0)
