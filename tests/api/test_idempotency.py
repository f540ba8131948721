"""An Idempotency-Key makes a retried trigger return the survey the first one created."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.api.conftest import VALID
from tests.conftest import bearer

Trigger = Callable[..., TestResponse]
Enqueued = list[tuple[str, datetime | None]]
KEY = {"Idempotency-Key": "visit-2026-0042"}


def test_the_same_key_and_body_return_the_same_survey(trigger: Trigger, enqueued: Enqueued) -> None:
    first = trigger(headers=KEY)
    again = trigger(headers=KEY)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json is not None and again.json is not None
    assert again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(enqueued) == 1


def test_key_order_in_the_body_does_not_matter(
    client: FlaskClient, dmv_key: str, enqueued: Enqueued
) -> None:
    reordered = dict(reversed(list(VALID.items())))
    first = client.post("/api/v1/surveys", json=VALID, headers={**bearer(dmv_key), **KEY})
    again = client.post("/api/v1/surveys", json=reordered, headers={**bearer(dmv_key), **KEY})
    assert first.json is not None and again.json is not None
    assert again.json["id"] == first.json["id"]


def test_the_same_key_with_another_body_is_a_conflict(trigger: Trigger, enqueued: Enqueued) -> None:
    trigger(headers=KEY)
    response = trigger(headers=KEY, to="+12025550199")
    assert response.status_code == 409
    assert response.json is not None
    assert response.json["error"]["code"] == "idempotency_conflict"
    assert len(enqueued) == 1


def test_without_a_key_each_trigger_is_a_new_survey(trigger: Trigger) -> None:
    first, second = trigger(), trigger()
    assert first.json is not None and second.json is not None
    assert first.json["id"] != second.json["id"]


def test_keys_of_different_agencies_do_not_collide(
    trigger: Trigger, client: FlaskClient, irs_key: str
) -> None:
    dmv = trigger(headers=KEY)
    irs = client.post(
        "/api/v1/surveys",
        json={"flow": "tax-call", "channel": "sms", "to": "+12025550123"},
        headers={**bearer(irs_key), **KEY},
    )
    assert irs.status_code == 202
    assert dmv.json is not None and irs.json is not None
    assert irs.json["id"] != dmv.json["id"]


def test_an_overlong_key_is_refused(trigger: Trigger) -> None:
    response = trigger(headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 400
