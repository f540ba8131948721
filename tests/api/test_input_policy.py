"""Hostile input at the agency API: text no store can keep, absurd numbers and dates,
deep nesting. Each is answered 4xx naming the field, and nothing is written, on SQLite and
PostgreSQL alike (PostgreSQL is where a NUL cannot be stored)."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from config.settings import Settings
from gateway import jobs
from gateway.app import create_app
from gateway.sending.starters import UNSTORABLE
from gateway.store.batch_models import SurveyBatch
from gateway.store.db import db_of
from gateway.store.models import Survey
from gateway.store.results_models import WebhookSubscription
from tests.api.conftest import VALID
from tests.conftest import bearer, new_key


@pytest.fixture
def app(settings: Settings, database_url: str) -> Iterator[Flask]:
    app = create_app(dataclasses.replace(settings, database_url=database_url), {"TESTING": True})
    yield app
    db_of(app).dispose()


@pytest.fixture
def key(app: Flask) -> str:
    return new_key(app, "dmv")


def _count(app: Flask, model: Any) -> int:
    with db_of(app).session() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def _refused(response: Any, field: str, status: int = 422) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["details"]["field"] == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"context": {"office": "a\u0000b"}}, "context.office"),
        ({"context": {"office": "a\ud800b"}}, "context.office"),
        ({"context": {"office": "a\u0007b"}}, "context.office"),
        ({"flow": "office-visit\u0000"}, "flow"),
        ({"to": "+1202555\u00000123"}, "to"),
        ({"send_at": "0001-01-01T00:00:00+14:00"}, "send_at"),
        ({"send_at": "9999-12-31T23:59:59-12:00"}, "send_at"),
    ],
)
def test_a_trigger_with_text_no_store_keeps_is_refused_and_writes_nothing(
    app: Flask,
    client: FlaskClient,
    key: str,
    enqueued: list[object],
    changes: dict[str, Any],
    field: str,
) -> None:
    response = client.post("/api/v1/surveys", json={**VALID, **changes}, headers=bearer(key))
    _refused(response, field)
    assert _count(app, Survey) == 0
    assert enqueued == []


def test_a_trigger_nested_a_thousand_deep_is_refused(
    app: Flask, client: FlaskClient, key: str, enqueued: list[object]
) -> None:
    body = '{"flow": "office-visit", "context": ' + "[" * 1000 + "]" * 1000 + "}"
    response = client.post(
        "/api/v1/surveys", data=body, content_type="application/json", headers=bearer(key)
    )
    _refused(response, "body")
    assert _count(app, Survey) == 0


@pytest.mark.parametrize("path", ["/api/v1/surveys", "/api/v1/surveys/batch"])
def test_an_idempotency_key_with_a_nul_is_refused_and_writes_nothing(
    app: Flask, client: FlaskClient, key: str, enqueued: list[object], path: str
) -> None:
    body = VALID if path == "/api/v1/surveys" else {"surveys": [VALID]}
    headers = {**bearer(key), "Idempotency-Key": "retry\x00-1"}
    response = client.post(path, json=body, headers=headers)
    _refused(response, "Idempotency-Key", 400)
    assert response.get_json()["error"]["code"] == "invalid_idempotency_key"
    assert _count(app, Survey) == _count(app, SurveyBatch) == 0
    assert enqueued == []


def test_a_batch_nested_a_thousand_deep_is_refused(
    app: Flask, client: FlaskClient, key: str
) -> None:
    body = '{"surveys": ' + "[" * 1000 + "]" * 1000 + "}"
    response = client.post(
        "/api/v1/surveys/batch", data=body, content_type="application/json", headers=bearer(key)
    )
    _refused(response, "body")
    assert _count(app, SurveyBatch) == 0


def test_batch_rows_with_nul_or_surrogates_are_refused_and_the_valid_row_is_queued(
    app: Flask, client: FlaskClient, key: str, enqueued: list[object]
) -> None:
    rows = [
        {**VALID, "context": {"office": "a\u0000b"}},
        VALID,
        {**VALID, "context": {"office": "\ud800"}},
    ]
    body = json.dumps({"surveys": rows})  # ensure_ascii: the surrogate travels as \ud800
    response = client.post(
        "/api/v1/surveys/batch", data=body, content_type="application/json", headers=bearer(key)
    )
    assert response.status_code == 202
    answer = response.json
    assert answer is not None
    assert answer["accepted"] == 1
    assert [(r["row"], r["field"]) for r in answer["rejected"]] == [
        (1, "context.office"),
        (3, "context.office"),
    ]
    with db_of(app).session() as session:
        assert list(session.scalars(sa.select(Survey.status))) == ["sent"]  # started at once


def test_a_csv_batch_row_with_a_nul_is_refused_and_the_valid_row_is_queued(
    app: Flask, client: FlaskClient, key: str, enqueued: list[object]
) -> None:
    body = "flow,channel,to,context.office\n"
    body += "office-visit,sms,+12025550123,a\x00b\noffice-visit,sms,+12025550124,Springfield\n"
    response = client.post(
        "/api/v1/surveys/batch", data=body, content_type="text/csv", headers=bearer(key)
    )
    assert response.status_code == 202
    answer = response.json
    assert answer is not None
    assert answer["accepted"] == 1
    assert [(r["row"], r["field"]) for r in answer["rejected"]] == [(1, "context.office")]
    assert _count(app, Survey) == 1


def test_a_csv_batch_with_a_repeated_column_is_refused_naming_it(
    app: Flask, client: FlaskClient, key: str
) -> None:
    body = "flow,channel,to,flow\noffice-visit,sms,+12025550123,quick-poll\n"
    response = client.post(
        "/api/v1/surveys/batch", data=body, content_type="text/csv", headers=bearer(key)
    )
    assert response.status_code == 400
    assert "'flow'" in response.json["error"]["message"]  # type: ignore[index]
    assert _count(app, Survey) == 0
    assert _count(app, SurveyBatch) == 0


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"flow": "office\u0000visit"}, 422, "flow"),
        ({"context.office": "a\u0000b"}, 422, "context.office"),
        ({"version": "99999999999"}, 400, "version"),
        ({"version": "²"}, 400, "version"),
        ({"limit": "²"}, 400, "limit"),
        ({"since": "0001-01-01T00:00:00+14:00"}, 400, "since"),
        ({"until": "9999-12-31T23:59:59-12:00"}, 400, "until"),
        ({"cursor": "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzE0OjAwIiwgIngiXQ"}, 400, "cursor"),
        (
            {"flow": "office-visit", "format": "csv", "context.office": "\u0000"},
            422,
            "context.office",
        ),
        ({"flow": "x" * 5000}, 422, "flow"),
    ],
)
def test_responses_filters_out_of_range_are_refused(
    client: FlaskClient, key: str, query: dict[str, str], status: int, field: str
) -> None:
    _refused(
        client.get("/api/v1/responses", query_string=query, headers=bearer(key)), field, status
    )


def test_a_survey_id_with_a_nul_is_refused(client: FlaskClient, key: str) -> None:
    _refused(client.get("/api/v1/surveys/ab%00c", headers=bearer(key)), "survey_id")


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"flow": "office\u0000visit", "fiscal_year": "2027", "quarter": "1"}, 422, "flow"),
        ({"flow": "office-visit", "fiscal_year": "9" * 30, "quarter": "1"}, 400, "fiscal_year"),
    ],
)
def test_report_parameters_out_of_range_are_refused(
    client: FlaskClient, key: str, query: dict[str, str], status: int, field: str
) -> None:
    response = client.get("/api/v1/reports/a11", query_string=query, headers=bearer(key))
    _refused(response, field, status)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://hooks.example.com/" + "a" * 3000}, "url"),
        ({"url": "https://hooks.example.com/\u0000"}, "url"),
        ({"url": "https://[::1"}, "url"),
        ({"url": "https://hooks.example.com:99999/"}, "url"),
        ({"url": "https://hooks.example.com/", "secret": "mine"}, "secret"),
    ],
)
def test_a_webhook_subscription_out_of_policy_is_refused(
    app: Flask, client: FlaskClient, key: str, body: dict[str, Any], field: str
) -> None:
    _refused(client.post("/api/v1/webhooks", json=body, headers=bearer(key)), field)
    assert _count(app, WebhookSubscription) == 0


@pytest.mark.parametrize("before", ["9" * 40, "²"])
def test_a_deliveries_page_before_an_absurd_id_is_refused(
    client: FlaskClient, key: str, before: str
) -> None:
    response = client.get(
        "/api/v1/webhooks/deliveries", query_string={"before": before}, headers=bearer(key)
    )
    _refused(response, "before", 400)


def test_a_start_the_store_refuses_fails_the_survey_and_is_not_retried(
    app: Flask, client: FlaskClient, key: str, enqueued: list[object], database_url: str
) -> None:
    survey_id = client.post("/api/v1/surveys", json=VALID, headers=bearer(key)).json["id"]  # type: ignore[index]
    with db_of(app).session() as session:  # as an earlier release may have stored it
        survey = session.get(Survey, survey_id)
        assert survey is not None
        survey.context = {"office": "a\x00b"}
    with app.app_context():
        assert jobs.start_job(survey_id) is None  # no rq Retry: the job ends here
    with db_of(app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        assert survey.status != "queued"
        if database_url.startswith("postgresql"):  # SQLite keeps a NUL and sends the text
            assert (survey.status, survey.failure_reason) == ("failed", UNSTORABLE)


def _cursor(position: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def test_a_forged_or_altered_cursor_is_refused(
    client: FlaskClient, key: str, enqueued: list[object]
) -> None:
    for _ in range(2):
        client.post("/api/v1/surveys", json=VALID, headers=bearer(key))
    page = client.get("/api/v1/responses?limit=1", headers=bearer(key)).json
    assert page is not None
    real = json.loads(base64.urlsafe_b64decode(page["next_cursor"] + "=="))
    forged = [
        _cursor(["2000-01-01T00:00:00+00:00", "sv_x"]),  # the old, unsigned form
        _cursor(["2000-01-01T00:00:00+00:00", real[1], real[2]]),  # another time
        _cursor([real[0], "sv_someone_else", real[2]]),  # another id
    ]
    for cursor in forged:
        response = client.get(
            "/api/v1/responses", query_string={"cursor": cursor}, headers=bearer(key)
        )
        _refused(response, "cursor", 400)
    again = client.get(
        "/api/v1/responses", query_string={"cursor": page["next_cursor"]}, headers=bearer(key)
    )
    assert again.status_code == 200
    assert len(again.json["data"]) == 1  # type: ignore[index]
