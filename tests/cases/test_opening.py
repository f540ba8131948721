"""A flow's alert rule with ``case:`` opens a case when a survey completes; its due time
counts business days on the federal holiday calendar, in the flow's time zone, to the end
of the business day there; staff may open one from any response."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.cases.due import add_business_days
from gateway.flows.loader import load_flow_text
from tests.cases.conftest import ANALYST, CASE_FLOW, answer_survey, api, cases_of
from tests.cases.test_dashboard_cases import signed_in
from tests.sms.support import Gateway


def test_a_low_score_with_consent_opens_a_high_priority_case_for_the_team(
    gateway: Gateway,
) -> None:
    survey_id = answer_survey(gateway, "1", "yes")
    (case,) = cases_of(gateway, survey_id)
    assert (case.priority, case.status, case.team, case.rule) == (
        "high",
        "new",
        "front-desk",
        "unhappy",
    )
    assert case.contact_consent is True
    assert case.office == "Downtown"
    assert case.due_at == add_business_days(case.opened_at, 2)


def test_a_good_score_opens_no_case(gateway: Gateway) -> None:
    survey_id = answer_survey(gateway, "5", "yes")
    assert cases_of(gateway, survey_id) == []


def test_a_no_to_the_consent_question_is_recorded_on_the_case(gateway: Gateway) -> None:
    survey_id = answer_survey(gateway, "2", "no")
    (case,) = cases_of(gateway, survey_id)
    assert case.contact_consent is False


def test_business_days_skip_weekends_and_federal_holidays() -> None:
    friday = datetime(2026, 9, 4, 15, 30, tzinfo=UTC)  # Monday 7 September is Labor Day
    assert add_business_days(friday, 2) == datetime(2026, 9, 9, 17, tzinfo=UTC)
    thursday = datetime(2026, 12, 24, 9, tzinfo=UTC)  # Friday 25 December is Christmas
    assert add_business_days(thursday, 1) == datetime(2026, 12, 28, 17, tzinfo=UTC)
    saturday = datetime(2026, 10, 3, 9, tzinfo=UTC)
    assert add_business_days(saturday, 1) == datetime(2026, 10, 5, 17, tzinfo=UTC)


def test_business_days_are_the_dates_of_the_flows_zone_and_end_there() -> None:
    eastern = ZoneInfo("America/New_York")
    # Thursday 3 September, 22:00 in New York, is already Friday in UTC: counted from
    # Thursday there, Friday is the first business day and Tuesday (after the weekend
    # and Labor Day) the second, due at 17:00 EDT.
    late_thursday = datetime(2026, 9, 4, 2, tzinfo=UTC)
    assert add_business_days(late_thursday, 2, eastern) == datetime(2026, 9, 8, 21, tzinfo=UTC)
    assert add_business_days(late_thursday, 2) == datetime(2026, 9, 9, 17, tzinfo=UTC)
    # In winter the business day ends at 17:00 EST, 22:00 UTC: across Christmas.
    christmas_eve = datetime(2026, 12, 24, 15, tzinfo=UTC)
    assert add_business_days(christmas_eve, 1, eastern) == datetime(2026, 12, 28, 22, tzinfo=UTC)
    # Whatever the hour it opens, a case is due at the end of the day there.
    for hour in (13, 23):  # 09:00 and 19:00 EDT on Friday 2 October
        opened = datetime(2026, 10, 2, hour, tzinfo=UTC)
        assert add_business_days(opened, 1, eastern) == datetime(2026, 10, 5, 21, tzinfo=UTC)


def test_a_flow_with_a_time_zone_has_its_cases_due_at_the_end_of_its_business_day(
    gateway: Gateway,
) -> None:
    # Both complete at 14:03 UTC on Monday 5 October (10:03 in New York), due in 2
    # business days: on Wednesday 7 October at 17:00 in the flow's zone.
    (eastern,) = cases_of(gateway, answer_survey(gateway, "1", "yes", flow="office-eastern"))
    assert eastern.due_at == datetime(2026, 10, 7, 21, tzinfo=UTC)
    (utc,) = cases_of(gateway, answer_survey(gateway, "1", "yes"))
    assert utc.due_at == datetime(2026, 10, 7, 17, tzinfo=UTC)
    shown = gateway.client.get(f"/api/v1/cases/{eastern.id}", headers=api(gateway)).get_json()
    assert shown["due_at"] == "2026-10-07T21:00:00Z"
    page = signed_in(gateway, ANALYST).get(f"/dashboard/cases/{eastern.id}")
    assert "2026-10-07 21:00 (2026-10-07 17:00 America/New_York)" in page.get_data(as_text=True)


def test_staff_open_a_case_from_any_response_once(gateway: Gateway) -> None:
    survey_id = answer_survey(gateway, "5", "yes")
    first = gateway.client.post(
        "/api/v1/cases", json={"survey_id": survey_id, "priority": "low"}, headers=api(gateway)
    )
    assert first.status_code == 201, first.get_json()
    again = gateway.client.post(
        "/api/v1/cases", json={"survey_id": survey_id}, headers=api(gateway)
    )
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert first.get_json()["priority"] == "low"
    assert first.get_json()["history"][0]["kind"] == "opened"
    assert len(cases_of(gateway, survey_id)) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("due: 2 business days", "due: 2 fortnights"),
            "case: due '2 fortnights' is not a time such as '2 business days' or '4 hours'",
        ),
        (("team: front-desk}", "team: back-office}"), "case: team 'back-office' is not one of"),
        (("priority: high", "priority: extreme"), "case: priority 'extreme' is not one of"),
        (("consent: may_contact", "consent: satisfied"), "cases: consent must name a yesno"),
        (("resolutions: [fixed, explained]", "resolutions: [Fixed]"), "is not valid"),
    ],
)
def test_a_bad_case_setting_is_refused_with_its_place(
    change: tuple[str, str], message: str
) -> None:
    text = CASE_FLOW.replace(*change)
    assert text != CASE_FLOW
    result = load_flow_text(text, "f.yaml")
    assert result.flow is None
    assert any(message in str(e) for e in result.errors), [str(e) for e in result.errors]


def test_consent_given_in_the_trigger_is_recorded_on_the_case(gateway: Gateway) -> None:
    survey_id = answer_survey(gateway, "1", "no", context={"contact_consent": "yes"})
    (case,) = cases_of(gateway, survey_id)
    assert case.contact_consent is True
