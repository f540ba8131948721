"""Contact fatigue: a number is surveyed at most once in a flow's ``fatigue_days``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.store.db import db_of
from gateway.store.models import Message, Survey, utcnow
from tests.sms.support import Gateway, make_gateway

FLOWS = Path(__file__).resolve().parents[1] / "support" / "flows"
TO = "+12025550131"


@pytest.fixture
def gateway(database_url: str) -> Iterator[Gateway]:
    gw = make_gateway(database_url, flows_dir=FLOWS)
    yield gw
    db_of(gw.app).dispose()


def trigger(gateway: Gateway, flow: str = "follow-up", to: str = TO) -> dict[str, object]:
    response = gateway.client.post(
        "/api/v1/surveys",
        json={"flow": flow, "channel": "sms", "to": to},
        headers={"Authorization": f"Bearer {gateway.api_key}"},
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    body: dict[str, object] = response.get_json()
    return body


def age_surveys(gateway: Gateway, days: int) -> None:
    with db_of(gateway.app).session() as session:
        session.execute(
            sa.update(Survey).values(created_at=utcnow() - timedelta(days=days, minutes=1))
        )


def test_a_number_surveyed_within_the_window_is_cancelled_for_fatigue_and_not_texted(
    gateway: Gateway,
) -> None:
    assert trigger(gateway)["status"] == "queued"
    second = trigger(gateway)
    assert (second["status"], second["reason"]) == ("cancelled", "fatigue")
    assert len(gateway.messages(Message.direction == "outbound")) == 1


def test_a_number_is_surveyed_again_once_the_window_has_passed(gateway: Gateway) -> None:
    trigger(gateway)
    age_surveys(gateway, 7)
    assert trigger(gateway)["status"] == "queued"
    assert len(gateway.messages(Message.direction == "outbound")) == 2


def test_a_flow_with_fatigue_days_zero_surveys_every_time(gateway: Gateway) -> None:
    trigger(gateway, "daytime")
    assert trigger(gateway, "daytime")["reason"] is None
    assert [s.failure_reason for s in gateway.rows(Survey)].count("fatigue") == 0


def test_a_batch_surveys_a_number_once_and_cancels_its_other_rows(gateway: Gateway) -> None:
    rows = [{"flow": "follow-up", "channel": "sms", "to": to} for to in (TO, TO, "+12025550132")]
    response = gateway.client.post(
        "/api/v1/surveys/batch",
        json={"surveys": rows},
        headers={"Authorization": f"Bearer {gateway.api_key}"},
    )
    assert response.get_json()["accepted"] == 3
    by_status = sorted((s.contact, s.status, s.failure_reason) for s in gateway.rows(Survey))
    assert by_status == [
        (TO, "cancelled", "fatigue"),
        (TO, "sent", None),
        ("+12025550132", "sent", None),
    ]


def test_a_batch_row_for_a_number_surveyed_earlier_is_cancelled(gateway: Gateway) -> None:
    trigger(gateway)
    gateway.client.post(
        "/api/v1/surveys/batch",
        json={"surveys": [{"flow": "follow-up", "channel": "sms", "to": TO}]},
        headers={"Authorization": f"Bearer {gateway.api_key}"},
    )
    assert sorted(s.status for s in gateway.rows(Survey)) == ["cancelled", "sent"]
