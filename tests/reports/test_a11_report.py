"""The A-11 report's figures against a hand-computed quarter (FY2027 Q1: Oct-Dec 2026)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from gateway.reports.a11 import SUBMISSION_HEADER
from tests.conftest import bearer
from tests.support.results import AddSurvey

Q1 = "/api/v1/reports/a11?flow=visit-v2&fiscal_year=2027&quarter=1"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def quarter(add_survey: AddSurvey) -> dict[str, str]:
    """Surveys around and inside FY2027 Q1; the names say what each one tests."""
    ids = {}
    # The last minute of FY2026 and the first instant of FY2027.
    ids["before"] = add_survey("visit-v2", at(2026, 9, 30, 23, 59), answers={"trust": "yes"})
    ids["first"] = add_survey(
        "visit-v2",
        at(2026, 10, 1, 0, 0),
        answers={"trust": "yes", "went_well": ["ease", "efficiency"], "comment": "=SUM(A1)"},
    )
    ids["partial"] = add_survey(
        "visit-v2", at(2026, 10, 15), status="started", answers={"trust": "no"}
    )
    add_survey("visit-v2", at(2026, 10, 16), status="opted_out")
    add_survey("visit-v2", at(2026, 10, 17), status="failed")
    add_survey("visit-v2", at(2026, 10, 18), status="expired", sent_at=at(2026, 10, 18))
    add_survey("visit-v2", at(2026, 10, 19), status="expired")  # never sent
    add_survey(
        "visit-v2",
        at(2026, 10, 20),
        answers={"trust": ("skipped", None), "comment": ("skipped", None)},
    )
    ids["voice"] = add_survey(
        "visit-v2",
        at(2026, 11, 2),
        channel="voice",
        answers={
            "trust": "no",
            "went_poorly": ["effectiveness", "other"],
            "comment": "Muy lento — café",
        },
    )
    ids["kiosk"] = add_survey(
        "visit-v2",
        at(2026, 11, 3),
        channel="web",
        context={"office": "Main", "location": "lobby-kiosk"},
        answers={"trust": "yes"},
    )
    add_survey("visit-v2", at(2026, 11, 4), channel="web", status="sent")
    add_survey("visit-v2", at(2026, 11, 5), channel="email", status="scheduled")
    add_survey("visit-v2", at(2026, 11, 6), channel="email", status="queued")
    ids["last"] = add_survey(
        "visit-v2", at(2026, 12, 31, 23, 59, 59), answers={"trust": "yes", "went_well": []}
    )
    ids["after"] = add_survey("visit-v2", at(2027, 1, 1, 0, 0), answers={"trust": "no"})
    # Another flow of the agency and another agency's flow, inside the quarter.
    add_survey("call-drivers", at(2026, 10, 2), answers={"satisfied": 5})
    add_survey("tax-call", at(2026, 10, 2), answers={"trust": "yes"})
    return ids


def collection(client: FlaskClient, key: str, url: str = Q1) -> dict[str, dict[str, Any]]:
    response = client.get(url, headers=bearer(key))
    assert response.status_code == 200, response.json
    return {row["channel"]: row for row in response.json["collection"]}


def figures(row: dict[str, Any]) -> tuple[int, int, int]:
    return (
        row["volume_of_customers"],
        row["volume_of_customers_provided_survey_opportunity"],
        row["volume_of_respondents"],
    )


def test_sms_customers_count_every_trigger_in_the_quarter(
    client: FlaskClient, dmv_key: str, quarter: dict[str, str]
) -> None:
    # first, partial, opted out, failed, expired x2, all skipped, last; not "before"/"after".
    assert figures(collection(client, dmv_key)["sms_text_messages"])[0] == 8


def test_opportunities_count_only_surveys_that_reached_the_respondent(
    client: FlaskClient, dmv_key: str, quarter: dict[str, str]
) -> None:
    # first, partial, expired after sending, all skipped, last.
    assert figures(collection(client, dmv_key)["sms_text_messages"])[1] == 5


def test_respondents_include_partial_responses_and_exclude_all_skipped(
    client: FlaskClient, dmv_key: str, quarter: dict[str, str]
) -> None:
    assert figures(collection(client, dmv_key)["sms_text_messages"])[2] == 3


def test_each_channel_gets_its_a11_name_and_figures(
    client: FlaskClient, dmv_key: str, quarter: dict[str, str]
) -> None:
    rows = collection(client, dmv_key)
    assert {name: figures(row) for name, row in rows.items()} == {
        "sms_text_messages": (8, 5, 3),
        "automated_phone": (1, 1, 1),
        "email": (2, 0, 0),
        "website": (1, 1, 0),
        "in_person": (1, 1, 1),
    }


def test_the_survey_at_midnight_starting_october_belongs_to_the_new_fiscal_year(
    client: FlaskClient, dmv_key: str, quarter: dict[str, str]
) -> None:
    q4 = "/api/v1/reports/a11?flow=visit-v2&fiscal_year=2026&quarter=4"
    assert figures(collection(client, dmv_key, q4)["sms_text_messages"]) == (1, 1, 1)
    q2 = "/api/v1/reports/a11?flow=visit-v2&fiscal_year=2027&quarter=2"
    assert figures(collection(client, dmv_key, q2)["sms_text_messages"]) == (1, 1, 1)


def test_the_collection_row_describes_the_survey(
    client: FlaskClient, dmv_key: str, quarter: dict[str, str]
) -> None:
    row = collection(client, dmv_key)["sms_text_messages"]
    assert {k: v for k, v in row.items() if not k.startswith("volume")} == {
        "service": "Driver license renewal",
        "fiscal_year": 2027,
        "quarter": 1,
        "transaction_point": "post-interaction",
        "channel": "sms_text_messages",
        "omb_control_number": "1234-5678",
        "survey_type": "thumbs_up_down",
        "trust_question_text": "I trust the DMV to deliver on its mission.",
    }


def submission(client: FlaskClient, key: str) -> list[list[str]]:
    response = client.get(Q1 + "&format=csv", headers=bearer(key))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_submission_csv_header_is_a11s_exactly(
    client: FlaskClient, dmv_key: str, quarter: dict[str, str]
) -> None:
    expected = (
        "external_id,question_1,positive_effectiveness,positive_ease,positive_efficiency,"
        "positive_transparency,positive_humanity,positive_employee,positive_other,"
        "negative_effectiveness,negative_ease,negative_efficiency,negative_transparency,"
        "negative_humanity,negative_employee,negative_other,question_4"
    )
    response = client.get(Q1 + "&format=csv", headers=bearer(dmv_key))
    assert response.get_data(as_text=True).split("\r\n")[0] == expected
    assert ",".join(SUBMISSION_HEADER) == expected


def test_the_submission_csv_has_one_row_per_respondent_in_the_quarter(
    client: FlaskClient, dmv_key: str, quarter: dict[str, str]
) -> None:
    ids = [row[0] for row in submission(client, dmv_key)[1:]]
    q = quarter
    assert ids == [q["first"], q["partial"], q["voice"], q["kiosk"], q["last"]]


def test_submission_rows_code_trust_drivers_and_unoffered_options(
    client: FlaskClient, dmv_key: str, quarter: dict[str, str]
) -> None:
    rows = {row[0]: row[1:] for row in submission(client, dmv_key)[1:]}
    null3 = ["null", "null", "null"]
    assert rows[quarter["first"]] == [
        "1", "0", "1", "1", *null3, "0", "0", "0", "0", "0", "0", "0", "0", "'=SUM(A1)",
    ]  # fmt: skip
    assert rows[quarter["partial"]] == ["0", "0", "0", "0", *null3, "0", *["0"] * 7, ""]
    assert rows[quarter["voice"]] == [
        "0", "0", "0", "0", *null3, "0", "1", "0", "0", "0", "0", "0", "1", "Muy lento — café",
    ]  # fmt: skip


def test_a_seven_driver_flow_counts_answers_at_each_point(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    add_survey("call-drivers", at(2026, 10, 1), answers={"satisfied": 5, "confidence": 4})
    add_survey("call-drivers", at(2026, 11, 1), answers={"satisfied": 5, "easy": 1})
    add_survey("call-drivers", at(2026, 11, 2), status="started", answers={"satisfied": 2})
    add_survey("call-drivers", at(2026, 9, 30, 23, 59), answers={"satisfied": 3})
    url = "/api/v1/reports/a11?flow=call-drivers&fiscal_year=2027&quarter=1"
    report = client.get(url, headers=bearer(dmv_key)).json
    assert report["format"] == "seven_drivers"
    assert [(d["driver"], d["counts"]) for d in report["drivers"]] == [
        ("satisfaction", {"1": 0, "2": 1, "3": 0, "4": 0, "5": 2}),
        ("trust", {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}),
        ("ease", {"1": 1, "2": 0, "3": 0, "4": 0, "5": 0}),
    ]
    assert report["collection"][0]["survey_type"] == "likert_scale"


def test_a_seven_driver_csv_has_the_legacy_templates_shape(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    add_survey("call-drivers", at(2026, 10, 1), answers={"satisfied": 4})
    url = "/api/v1/reports/a11?flow=call-drivers&fiscal_year=2027&quarter=1&format=csv"
    text = client.get(url, headers=bearer(dmv_key)).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "driver",
        "question_text",
        "count_1",
        "count_2",
        "count_3",
        "count_4",
        "count_5",
    ]
    assert rows[1] == [
        "satisfaction", "I am satisfied with the service I received.", "0", "0", "0", "1", "0",
    ]  # fmt: skip


def test_another_agencys_flow_is_not_found(client: FlaskClient, dmv_key: str) -> None:
    url = "/api/v1/reports/a11?flow=tax-call&fiscal_year=2027&quarter=1"
    response = client.get(url, headers=bearer(dmv_key))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "flow_not_found"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("flow=visit-v2&quarter=1", "fiscal_year"),
        ("flow=visit-v2&fiscal_year=27&quarter=1", "fiscal_year"),
        ("flow=visit-v2&fiscal_year=2027&quarter=5", "quarter"),
        ("flow=visit-v2&fiscal_year=2027&quarter=one", "quarter"),
        ("fiscal_year=2027&quarter=1", "flow"),
        ("flow=visit-v2&fiscal_year=2027&quarter=1&format=xml", "format"),
    ],
)
def test_a_bad_parameter_is_refused_naming_the_field(
    client: FlaskClient, dmv_key: str, query: str, field: str
) -> None:
    response = client.get(f"/api/v1/reports/a11?{query}", headers=bearer(dmv_key))
    assert response.status_code == 400
    assert response.json["error"]["details"] == {"field": field}
    assert field in response.json["error"]["message"]


def test_the_report_needs_an_api_key(client: FlaskClient) -> None:
    assert client.get(Q1).status_code == 401
