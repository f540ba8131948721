"""Response exports: the extra filters, CSV safety, and Flow Results (FLOIP) packages."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.support.results import AddSurvey

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
    assert resource["schema"]["fields"] == RC1_FIELDS


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


def test_the_floip_rows_are_the_releases_six_columns_without_contact_details(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    survey_id = add_survey(
        "visit-v2", WHEN, answers={"trust": "no", "went_poorly": ["ease"], "comment": "Café"}
    )
    package = descriptor(client, dmv_key)
    rows = package_rows(client, dmv_key, package)
    assert [r[3:5] for r in rows] == [
        ["trust", "no"],
        ["went_poorly", ["ease"]],
        ["comment", "Café"],
    ]
    for _, row_id, contact, _, _, metadata in rows:
        assert isinstance(row_id, int)
        assert contact.startswith("ct_") and "2025550123" not in contact
        assert metadata == {"session_id": survey_id, "channel": "sms", "language": "en",
                            "flow_version": 1}  # fmt: skip


def test_a_package_and_its_rows_conform_to_flow_results_1_0_0_rc1(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    add_survey("visit-v2", WHEN, answers={"trust": "yes", "went_well": ["ease", "other"]})
    add_survey("visit-v2", WHEN, channel="voice", answers={"trust": "no", "comment": "Slow"})
    package = descriptor(client, dmv_key)
    assert rc1_problems(package, package_rows(client, dmv_key, package)) == []


def test_the_rc1_check_finds_a_seven_column_package(
    client: FlaskClient, dmv_key: str, add_survey: AddSurvey
) -> None:
    """The package as it was: a ``session_id`` field and column under the rc1 label."""
    add_survey("visit-v2", WHEN, answers={"trust": "yes"})
    package = descriptor(client, dmv_key)
    rows = package_rows(client, dmv_key, package)
    schema = package["resources"][0]["schema"]  # type: ignore[index]
    schema["fields"].insert(3, {"name": "session_id", "title": "Session ID", "type": "string"})
    old_rows = [[*row[:3], row[5]["session_id"], *row[3:]] for row in rows]
    assert rc1_problems(package, old_rows) == ["schema.fields", "row of 7 columns"]


#: The six fields of the release's ``schema.fields``, as its text lists them.
RC1_FIELDS = [
    {"name": "timestamp", "title": "Timestamp", "type": "datetime"},
    {"name": "row_id", "title": "Row ID", "type": "string"},
    {"name": "contact_id", "title": "Contact ID", "type": "string"},
    {"name": "question_id", "title": "Question ID", "type": "string"},
    {"name": "response", "title": "Response", "type": "any"},
    {"name": "response_metadata", "title": "Response Metadata", "type": "object"},
]
RC1_TYPES = {"select_one", "select_many", "numeric", "open", "text", "image", "video", "audio",
             "geo_point", "date", "time", "datetime"}  # fmt: skip
RFC3339_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d:\d\d$")


def package_rows(client: FlaskClient, key: str, package: dict[str, Any]) -> list[list[Any]]:
    (resource,) = package["resources"]
    url = urlsplit(resource["path"])
    response = client.get(f"{url.path}?{url.query}", headers=bearer(key))
    assert response.status_code == 200
    rows: list[list[Any]] = json.loads(response.get_data(as_text=True))
    return rows


def rc1_problems(package: dict[str, Any], rows: list[list[Any]]) -> list[str]:
    """What a package breaks of Flow Results 1.0.0-rc1 (FLOIP flow-results, 2017-09-30),
    checked rule by rule from the specification's text."""
    problems = []
    if package.get("profile") != "flow-results-package":
        problems.append("profile")
    if package.get("flow_results_specification_version") != "1.0.0-rc1":
        problems.append("flow_results_specification_version")
    for stamp in ("created", "modified"):
        if not RFC3339_OFFSET.match(str(package.get(stamp))):
            problems.append(stamp)
    if uuid.UUID(str(package.get("id"))).version != 4:
        problems.append("id is not a version 4 UUID")
    if not re.fullmatch(r"[a-z0-9._-]+", str(package.get("name"))):
        problems.append("name")
    resources = package.get("resources")
    if not isinstance(resources, list) or len(resources) != 1:
        return [*problems, "exactly one resource"]
    (resource,) = resources
    if "data" in resource or not resource.get("path"):
        problems.append("a path, no inline data")
    schema = resource.get("schema", {})
    if schema.get("fields") != RC1_FIELDS:
        problems.append("schema.fields")
    if "language" in schema and not re.fullmatch(r"[a-z]{3}", schema["language"]):
        problems.append("schema.language is not ISO 639-3")
    questions: dict[str, Any] = schema.get("questions", {})
    for question_id, question in questions.items():
        if question.get("type") not in RC1_TYPES or not isinstance(question.get("label"), str):
            problems.append(f"question {question_id}")
        options = question.get("type_options")
        if not isinstance(options, dict):
            problems.append(f"question {question_id}: type_options")
        elif question["type"].startswith("select_") and not options.get("choices"):
            problems.append(f"question {question_id}: choices")
    seen: set[str] = set()
    for row in rows:
        if len(row) != 6:
            problems.append(f"row of {len(row)} columns")
            continue
        timestamp, row_id, contact, question_id, response, metadata = row
        if not RFC3339_OFFSET.match(timestamp) or timestamp.endswith("Z"):
            problems.append(f"timestamp {timestamp}")
        if not isinstance(row_id, (int, str)) or str(row_id) in seen:
            problems.append(f"row_id {row_id}")
        seen.add(str(row_id))
        if not isinstance(contact, (int, str)):
            problems.append(f"contact_id {contact}")
        question = questions.get(question_id)
        if question is None:
            problems.append(f"question {question_id} not in the schema")
            continue
        if metadata is not None and not isinstance(metadata, dict):
            problems.append("response_metadata")
        choices = question["type_options"].get("choices", [])
        if question["type"] == "select_one" and response not in choices:
            problems.append(f"{question_id}: {response!r} not a choice")
        if question["type"] == "select_many" and not (
            isinstance(response, list) and set(response) <= set(choices)
        ):
            problems.append(f"{question_id}: {response!r} not a list of choices")
        if question["type"] == "numeric":
            low, high = question["type_options"].get("range", [response, response])
            if not isinstance(response, (int, float)) or not low <= response <= high:
                problems.append(f"{question_id}: {response!r} out of range")
        if question["type"] == "text" and not isinstance(response, str):
            problems.append(f"{question_id}: {response!r} not text")
    return problems


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
