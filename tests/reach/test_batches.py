"""`POST /api/v1/surveys/batch`: many triggers in one request, JSON or CSV."""

from __future__ import annotations

import csv as csv_module
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from werkzeug.test import TestResponse

from gateway.store.batch_models import SurveyBatch
from gateway.store.db import db_of
from gateway.store.models import Message, OptOut, Survey, utcnow
from gateway.store.sealing import contact_hash
from tests.sms.support import Gateway, make_gateway

URL = "/api/v1/surveys/batch"


@pytest.fixture
def gateway(database_url: str) -> Iterator[Gateway]:
    gw = make_gateway(database_url)
    yield gw
    db_of(gw.app).dispose()


def number(i: int) -> str:
    return f"+1202555{i:04d}"


def post(
    gateway: Gateway, body: Any = None, *, csv: str | None = None, key: str | None = None
) -> TestResponse:
    headers = {"Authorization": f"Bearer {gateway.api_key}"}
    if key:
        headers["Idempotency-Key"] = key
    if csv is not None:
        return gateway.client.post(URL, data=csv, content_type="text/csv", headers=headers)
    return gateway.client.post(URL, json=body, headers=headers)


def trigger(i: int, **fields: Any) -> dict[str, Any]:
    return {"flow": "clinic-visit", "channel": "sms", "to": number(i), **fields}


def test_every_valid_row_becomes_a_survey_whose_first_text_is_sent(gateway: Gateway) -> None:
    response = post(gateway, {"surveys": [trigger(i) for i in range(3)]})
    assert response.status_code == 202
    body = response.get_json()
    assert body["accepted"] == 3 and body["rejected"] == [] and body["rows"] == 3
    assert body["batch_id"].startswith("bt_")
    surveys = gateway.rows(Survey)
    assert sorted(s.contact for s in surveys) == [number(i) for i in range(3)]
    assert {s.status for s in surveys} == {"sent"}
    assert len(gateway.messages(Message.direction == "outbound")) == 3


def test_refused_rows_are_reported_by_number_and_field_and_the_rest_go_ahead(
    gateway: Gateway,
) -> None:
    rows = [
        trigger(1),
        trigger(2, to="not a number"),
        trigger(3, language="fr"),
        {"flow": "no-such-flow", "channel": "sms", "to": number(4)},
        trigger(5),
    ]
    body = post(gateway, {"surveys": rows}).get_json()
    assert body["accepted"] == 2
    assert [(r["row"], r["field"], r["code"]) for r in body["rejected"]] == [
        (2, "to", "invalid_field"),
        (3, "language", "invalid_field"),
        (4, "flow", "flow_not_found"),
    ]
    assert "E.164" in body["rejected"][0]["message"]
    assert sorted(s.contact for s in gateway.rows(Survey)) == [number(1), number(5)]


def test_a_csv_upload_is_read_by_its_header_with_context_columns(gateway: Gateway) -> None:
    csv = (
        "flow,channel,to,language,context.office\n"
        f"lobby-poster,sms,{number(1)},,Downtown\n"
        f"lobby-poster,sms,{number(2)},en,\n"
        f"clinic-visit,sms,{number(3)},es,\n"
    )
    body = post(gateway, csv=csv).get_json()
    assert body["accepted"] == 2
    assert [(r["row"], r["field"]) for r in body["rejected"]] == [(2, "context.office")]
    surveys = {s.contact: s for s in gateway.rows(Survey)}
    assert surveys[number(1)].context == {"office": "Downtown"}
    assert surveys[number(3)].language == "es"


def test_a_csv_with_an_unknown_column_is_refused_whole(gateway: Gateway) -> None:
    response = post(gateway, csv=f"flow,channel,phone\nclinic-visit,sms,{number(1)}\n")
    assert response.status_code == 400
    assert "unknown CSV column 'phone'" in response.get_json()["error"]["message"]
    assert gateway.rows(Survey) == []


def test_a_csv_with_old_mac_line_ends_is_read_line_by_line(gateway: Gateway) -> None:
    csv = f"flow,channel,to\rclinic-visit,sms,{number(1)}\rclinic-visit,sms,{number(2)}\r"
    body = post(gateway, csv=csv).get_json()
    assert body["accepted"] == 2 and body["rejected"] == []
    assert sorted(s.contact for s in gateway.rows(Survey)) == [number(1), number(2)]


def test_a_csv_that_cannot_be_read_is_refused_whole_naming_the_line(gateway: Gateway) -> None:
    overlong = "x" * (csv_module.field_size_limit() + 1)
    response = post(
        gateway, csv=f"flow,channel,to,context.note\nclinic-visit,sms,{number(1)},{overlong}\n"
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_csv"
    assert "cannot be read at line 2" in error["message"]
    assert gateway.rows(Survey) == []


def test_rows_due_later_are_scheduled_and_nothing_is_sent_yet(gateway: Gateway) -> None:
    later = (utcnow() + timedelta(hours=2)).isoformat()
    body = post(gateway, {"surveys": [trigger(1, send_at=later)]}).get_json()
    assert body["accepted"] == 1
    (survey,) = gateway.rows(Survey)
    assert survey.status == "scheduled"
    assert gateway.messages() == []


def test_an_opted_out_number_is_recorded_as_opted_out_and_not_texted(gateway: Gateway) -> None:
    with db_of(gateway.app).session() as session:
        session.add(OptOut(contact_hash=contact_hash(number(1)), channel="sms", keyword="STOP"))
    post(gateway, {"surveys": [trigger(1), trigger(2)]})
    statuses = {s.contact: s.status for s in gateway.rows(Survey)}
    assert statuses == {number(1): "opted_out", number(2): "sent"}
    assert [m.to_addr for m in gateway.messages(Message.direction == "outbound")] == [number(2)]


def test_the_same_batch_sent_again_under_its_key_answers_the_same_and_creates_nothing(
    gateway: Gateway,
) -> None:
    batch = {"surveys": [trigger(1), trigger(2, to="x")]}
    first = post(gateway, batch, key="nightly-2026-11-25")
    again = post(gateway, batch, key="nightly-2026-11-25")
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(gateway.rows(Survey)) == 1
    assert len(gateway.rows(SurveyBatch)) == 1


def test_a_key_reused_with_a_different_batch_is_a_conflict(gateway: Gateway) -> None:
    post(gateway, {"surveys": [trigger(1)]}, key="k1")
    response = post(gateway, {"surveys": [trigger(2)]}, key="k1")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_conflict"
    assert [s.contact for s in gateway.rows(Survey)] == [number(1)]


def test_a_body_that_is_not_a_list_of_surveys_is_refused(gateway: Gateway) -> None:
    response = post(gateway, [trigger(1)])
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_body"


def test_more_than_the_maximum_rows_is_refused_whole(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gateway.reach.batches.MAX_ROWS", 2)
    response = post(gateway, {"surveys": [trigger(i) for i in range(3)]})
    assert response.status_code == 413
    assert gateway.rows(Survey) == []


def test_a_batch_needs_an_api_key(gateway: Gateway) -> None:
    response = gateway.client.post(URL, json={"surveys": [trigger(1)]})
    assert response.status_code == 401
