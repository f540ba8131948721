"""Response exports: the extra filters, CSV safety, and Flow Results (FLOIP) packages."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.results.conftest import AddSurvey

WHEN = datetime(2026, 10, 5, 12, tzinfo=UTC)


def listed(client: FlaskClient, key: str, query: str) -> list[str]:
    response = client.get(f"/api/v1/responses?flow=visit-v2&{query}", headers=bearer(key))
    assert response.status_code == 200, response.json
    return [s["id"] for s in response.json["data"]]


def test_responses_filter_by_context_value(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    main = add_survey("visit-v2", WHEN, context={"office": "Main"})
    add_survey("visit-v2", WHEN, context={"office": "North"})
    assert listed(client, dmv_key, "context.office=Main") == [main]


def test_responses_filter_by_language(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    add_survey("visit-v2", WHEN, language="en")
    spanish = add_survey("visit-v2", WHEN, language="es")
    assert listed(client, dmv_key, "language=es") == [spanish]


def test_responses_filter_by_flow_version(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    first = add_survey("visit-v2", WHEN)
    assert listed(client, dmv_key, "version=1") == [first]
    assert listed(client, dmv_key, "version=2") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("version=first", "version"),
        ("language=Spanish!", "language"),
        ("context.a-b=1", "context.a-b"),
    ],
)
def test_a_bad_extra_filter_is_refused_naming_it(
    client: FlaskClient, dmv_key: str, query: str, field: str
) -> None:
    response = client.get(f"/api/v1/responses?flow=visit-v2&{query}", headers=bearer(dmv_key))
    assert response.status_code == 400
    assert response.json["error"]["details"] == {"field": field}


def csv_rows(client: FlaskClient, key: str) -> list[dict[str, str]]:
    response = client.get("/api/v1/responses?flow=visit-v2&format=csv", headers=bearer(key))
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8"))))


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1 555", "-2+3", "@SUM(A1)"])
def test_a_csv_cell_that_a_spreadsheet_would_run_is_defused(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey, text: str
) -> None:
    add_survey("visit-v2", WHEN, answers={"trust": "yes", "comment": text})
    (row,) = csv_rows(client, dmv_key)
    assert row["comment"] == "'" + text


def test_a_context_value_that_looks_like_a_formula_is_defused_too(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    add_survey("visit-v2", WHEN, context={"office": "=cmd|' /C calc'!A0"})
    (row,) = csv_rows(client, dmv_key)
    assert row["context.office"] == "'=cmd|' /C calc'!A0"


def test_non_ascii_answers_survive_the_csv_as_utf8(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    text = "Très bien — ñandú, 日本語, 👍"
    add_survey("visit-v2", WHEN, answers={"trust": "yes", "comment": text})
    (row,) = csv_rows(client, dmv_key)
    assert row["comment"] == text


def descriptor(client: FlaskClient, key: str) -> dict[str, object]:
    response = client.get("/api/v1/responses?flow=visit-v2&format=floip", headers=bearer(key))
    assert response.status_code == 200, response.json
    data: dict[str, object] = response.json
    return data


def test_the_floip_descriptor_is_a_flow_results_package(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    add_survey("visit-v2", WHEN, answers={"trust": "yes"})
    package = descriptor(client, dmv_key)
    assert package["profile"] == "flow-results-package"
    assert package["flow_results_specification_version"] == "1.0.0-rc1"
    assert uuid.UUID(str(package["id"])).version == 4
    assert package["id"] == descriptor(client, dmv_key)["id"]  # stable across calls
    (resource,) = package["resources"]  # type: ignore[misc]
    names = [f["name"] for f in resource["schema"]["fields"]]
    assert names == ["timestamp", "row_id", "contact_id", "session_id", "question_id",
                     "response", "response_metadata"]  # fmt: skip


def test_the_floip_questions_schema_describes_each_question(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    add_survey("visit-v2", WHEN)
    (resource,) = descriptor(client, dmv_key)["resources"]  # type: ignore[misc]
    questions = resource["schema"]["questions"]
    assert questions["trust"] == {
        "type": "select_one",
        "label": "I trust the DMV to deliver on its mission.",
        "type_options": {"choices": ["yes", "no"]},
    }
    assert questions["went_poorly"]["type"] == "select_many"
    assert questions["went_poorly"]["type_options"]["choices"][:2] == ["effectiveness", "ease"]
    assert questions["comment"]["type"] == "text"


def test_the_floip_rows_are_seven_column_arrays_without_contact_details(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    survey_id = add_survey(
        "visit-v2", WHEN, answers={"trust": "no", "went_poorly": ["ease"], "comment": "Café"}
    )
    (resource,) = descriptor(client, dmv_key)["resources"]  # type: ignore[misc]
    url = urlsplit(resource["path"])
    response = client.get(f"{url.path}?{url.query}", headers=bearer(dmv_key))
    assert response.status_code == 200
    rows = json.loads(response.get_data(as_text=True))
    assert [r[4:6] for r in rows] == [
        ["trust", "no"],
        ["went_poorly", ["ease"]],
        ["comment", "Café"],
    ]
    for timestamp, row_id, contact, session, _, _, metadata in rows:
        assert timestamp.endswith("+00:00")
        assert isinstance(row_id, int)
        assert session == survey_id
        assert contact.startswith("ct_") and "2025550123" not in contact
        assert metadata == {"channel": "sms", "language": "en", "flow_version": 1}


def test_another_agencys_flow_has_no_floip_package(client: FlaskClient, irs_key: str) -> None:
    response = client.get("/api/v1/responses?flow=visit-v2&format=floip", headers=bearer(irs_key))
    assert response.status_code == 404


def test_the_csv_has_a_row_for_each_survey_with_its_answers_in_their_columns(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    first = add_survey("visit-v2", WHEN, answers={"trust": "no", "went_poorly": ["ease", "other"]},
                       context={"office": "Main"})  # fmt: skip
    second = add_survey("visit-v2", datetime(2026, 10, 6, tzinfo=UTC), status="queued")
    rows = csv_rows(client, dmv_key)
    assert [r["id"] for r in rows] == [first, second]
    assert (rows[0]["trust"], rows[0]["went_poorly"], rows[0]["context.office"]) == (
        "no",
        "ease;other",
        "Main",
    )
    assert (rows[1]["status"], rows[1]["trust"], rows[1]["flow_version"]) == ("queued", "", "1")
    assert rows[0]["created_at"] == "2026-10-05T12:00:00Z"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (4.5, "4.5"),
        (-2, "-2"),
        (True, "yes"),
        (None, ""),
        ([1, "a", True], "1;a;True"),
        ("naïve\ttab\nline", "naïve\ttab\nline"),
        ("-5", "'-5"),
    ],
)
def test_each_kind_of_context_value_reads_in_the_csv_as_written(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey, value: object, cell: str
) -> None:
    add_survey("visit-v2", WHEN, context={"office": value})
    assert csv_rows(client, dmv_key)[0]["context.office"] == cell


def test_a_csv_time_keeps_its_microseconds(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    add_survey("visit-v2", WHEN.replace(microsecond=120))
    assert csv_rows(client, dmv_key)[0]["created_at"] == "2026-10-05T12:00:00.000120Z"
