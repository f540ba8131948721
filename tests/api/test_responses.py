"""GET /api/v1/responses: an agency's surveys in stable pages, or as one streamed CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from config.settings import Settings
from gateway.app import create_app
from gateway.store.db import db_of
from gateway.store.models import Answer, Survey
from tests.conftest import bearer, new_key

Trigger = Callable[..., TestResponse]


def start(trigger: Trigger, **changes: Any) -> str:
    response = trigger(**changes)
    assert response.status_code == 202, response.json
    assert response.json is not None
    survey_id: str = response.json["id"]
    return survey_id


def get(client: FlaskClient, key: str, **params: str) -> TestResponse:
    return client.get("/api/v1/responses", query_string=params, headers=bearer(key))


def answer(app: Flask, survey_id: str, **values: Any) -> None:
    with db_of(app).session() as session:
        for question_id, value in values.items():
            raw = None if value is None else str(value)
            session.add(
                Answer(
                    survey_id=survey_id,
                    question_id=question_id,
                    raw=raw,
                    value=value,
                    outcome="answered",
                )
            )
        session.get_one(Survey, survey_id).status = "completed"


def test_pages_follow_each_other_without_gaps_or_repeats(
    client: FlaskClient, trigger: Trigger, dmv_key: str
) -> None:
    created = [start(trigger) for _ in range(7)]
    seen: list[list[str]] = []
    params = {"limit": "3"}
    while True:
        body = get(client, dmv_key, **params).json
        assert body is not None
        seen.append([s["id"] for s in body["data"]])
        if body["next_cursor"] is None:
            break
        params = {"limit": "3", "cursor": body["next_cursor"]}
    assert [len(page) for page in seen] == [3, 3, 1]
    assert [i for page in seen for i in page] == created


def test_another_agencys_surveys_are_not_listed(
    client: FlaskClient, trigger: Trigger, irs_key: str
) -> None:
    start(trigger)
    body = get(client, irs_key).json
    assert body == {"data": [], "next_cursor": None}


def test_surveys_are_filtered_by_status_and_channel(
    app: Flask, client: FlaskClient, trigger: Trigger, dmv_key: str
) -> None:
    done = start(trigger)
    start(trigger)
    start(trigger, channel="email", to="a@example.org")
    answer(app, done, satisfied=4)
    completed = get(client, dmv_key, status="completed").json
    email = get(client, dmv_key, channel="email").json
    assert completed is not None and email is not None
    assert [s["id"] for s in completed["data"]] == [done]
    assert [s["channel"] for s in email["data"]] == ["email"]


def test_surveys_are_filtered_by_creation_time(
    client: FlaskClient, trigger: Trigger, dmv_key: str
) -> None:
    start(trigger)
    future = get(client, dmv_key, since="2999-01-01").json
    past = get(client, dmv_key, until="2000-01-01T00:00:00Z").json
    today = get(client, dmv_key, since="2000-01-01").json
    assert future is not None and past is not None and today is not None
    assert (len(future["data"]), len(past["data"]), len(today["data"])) == (0, 0, 1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyIyMDI2LTAxLTAxIiwgMV0"}, "cursor"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"status": "done"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"format": "xlsx"}, "format"),
        ({"format": "csv"}, "flow"),
    ],
)
def test_a_bad_parameter_is_named(
    client: FlaskClient, dmv_key: str, params: dict[str, str], field: str
) -> None:
    response = get(client, dmv_key, **params)
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"]["details"] == {"field": field}


def csv_rows(response: TestResponse) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_has_one_row_per_survey_and_one_column_per_question(
    app: Flask, client: FlaskClient, trigger: Trigger, dmv_key: str
) -> None:
    first = start(trigger)
    start(trigger, language="es")
    answer(app, first, satisfied=5, comment="Quick and friendly")
    response = get(client, dmv_key, flow="office-visit", format="csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    header = response.get_data(as_text=True).splitlines()[0]
    assert header == (
        "id,flow_version,channel,language,status,created_at,completed_at,"
        "context.office,satisfied,comment,"
        "comment.themes,comment.sentiment,comment.crisis"
    )
    rows = csv_rows(response)
    assert [(r["id"] == first, r["language"], r["satisfied"], r["comment"]) for r in rows] == [
        (True, "en", "5", "Quick and friendly"),
        (False, "es", "", ""),
    ]


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(
    app: Flask, client: FlaskClient, trigger: Trigger, dmv_key: str
) -> None:
    survey_id = start(trigger, context={"office": "@SUM(A1)"})
    answer(app, survey_id, satisfied=1, comment='=HYPERLINK("http://evil.example","click")')
    row = csv_rows(get(client, dmv_key, flow="office-visit", format="csv"))[0]
    assert row["comment"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["context.office"] == "'@SUM(A1)"
    assert row["satisfied"] == "1"


def test_csv_keeps_non_ascii_text(
    app: Flask, client: FlaskClient, trigger: Trigger, dmv_key: str
) -> None:
    survey_id = start(trigger, language="es", context={"office": "Peñasco"})
    answer(app, survey_id, comment="Muy bien, ¡gracias! 😊")
    response = get(client, dmv_key, flow="office-visit", format="csv")
    assert response.content_type == "text/csv; charset=utf-8"
    row = csv_rows(response)[0]
    assert (row["context.office"], row["comment"]) == ("Peñasco", "Muy bien, ¡gracias! 😊")


def test_csv_of_another_agencys_flow_is_not_found(client: FlaskClient, dmv_key: str) -> None:
    response = get(client, dmv_key, flow="tax-call", format="csv")
    assert response.status_code == 404


def test_csv_and_pages_read_the_same_on_sqlite_and_postgresql(
    settings: Settings, database_url: str, enqueued: list[object]
) -> None:
    app = create_app(dataclasses.replace(settings, database_url=database_url), {"TESTING": True})
    client = app.test_client()
    key = new_key(app, "dmv")
    body = {
        "flow": "office-visit",
        "channel": "sms",
        "to": "+12025550123",
        "context": {"office": "Ñ"},
    }
    ids = [
        client.post("/api/v1/surveys", json=body, headers=bearer(key)).json["id"] for _ in range(3)
    ]  # type: ignore[index]
    answer(app, ids[1], satisfied=3, comment="-1 star")
    page = get(client, key, limit="2").json
    assert page is not None
    rest = get(client, key, limit="2", cursor=page["next_cursor"]).json
    assert rest is not None
    assert [s["id"] for s in page["data"] + rest["data"]] == ids
    rows = csv_rows(get(client, key, flow="office-visit", format="csv"))
    assert [(r["id"], r["satisfied"], r["comment"]) for r in rows] == [
        (ids[0], "", ""),
        (ids[1], "3", "'-1 star"),
        (ids[2], "", ""),
    ]
    db_of(app).dispose()
