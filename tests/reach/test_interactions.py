"""Every interaction counted: a trigger is recorded, with why no survey followed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.store.models import Message, Survey
from gateway.store.reach_models import Interaction
from tests.reach.interactions_support import Clock, keys, open_gateway, post
from tests.sms.support import Gateway

TO = "+12025550161"


@pytest.fixture
def gateway(database_url: str) -> Iterator[Gateway]:
    yield from open_gateway(database_url)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def anyday(to: str = TO, **fields: str) -> dict[str, str]:
    return {"flow": "anyday", "channel": "sms", "to": to, **fields}


def test_an_offered_survey_says_so_and_its_interaction_is_recorded(
    gateway: Gateway, clock: Clock
) -> None:
    response = post(gateway, anyday())
    body = response.get_json()
    assert response.status_code == 202
    assert (body["offered"], body["reason"]) == (True, None)
    (interaction,) = gateway.rows(Interaction)
    assert (interaction.flow_id, interaction.channel, interaction.offered) == (
        "anyday",
        "sms",
        True,
    )
    assert interaction.survey_id == body["id"]
    assert interaction.created_at == clock.now


def test_an_opted_out_contact_is_counted_and_not_texted(gateway: Gateway, clock: Clock) -> None:
    gateway.text("STOP", from_=TO)
    body = post(gateway, anyday()).get_json()
    assert (body["status"], body["offered"], body["reason"]) == ("opted_out", False, "opted_out")
    (interaction,) = gateway.rows(Interaction)
    assert (interaction.offered, interaction.reason) == (False, "opted_out")
    assert gateway.messages(Message.direction == "outbound", Message.survey_id.is_not(None)) == []


def test_a_fatigued_contact_is_counted_with_the_reason(gateway: Gateway, clock: Clock) -> None:
    body = {"flow": "counted", "channel": "sms", "to": TO}
    first, second = keys("counted", 0.5, sampled=True, count=2)
    assert post(gateway, body, first).get_json()["offered"] is True
    answer = post(gateway, body, second).get_json()
    assert (answer["status"], answer["offered"], answer["reason"]) == (
        "cancelled",
        False,
        "fatigue",
    )
    assert [i.reason for i in gateway.rows(Interaction)] == [None, "fatigue"]


def test_an_invalid_contact_is_refused_by_field_and_still_counted(
    gateway: Gateway, clock: Clock
) -> None:
    response = post(gateway, anyday(to="+1202555"))
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"field": "to"}
    (interaction,) = gateway.rows(Interaction)
    assert (interaction.offered, interaction.reason, interaction.survey_id) == (
        False,
        "invalid_contact",
        None,
    )
    assert gateway.rows(Survey) == []


def test_a_refused_contact_retried_with_its_key_is_counted_once(
    gateway: Gateway, clock: Clock
) -> None:
    assert post(gateway, anyday(to="not-a-number"), "visit-1").status_code == 422
    assert post(gateway, anyday(to="not-a-number"), "visit-1").status_code == 422
    assert len(gateway.rows(Interaction)) == 1
    corrected = post(gateway, anyday(), "visit-1")
    assert corrected.status_code == 202
    (interaction,) = gateway.rows(Interaction)
    assert (interaction.offered, interaction.survey_id) == (True, corrected.get_json()["id"])


def test_a_trigger_wrong_in_another_field_is_not_an_interaction(
    gateway: Gateway, clock: Clock
) -> None:
    response = post(gateway, anyday(to="bad", language="fr"))
    assert response.get_json()["error"]["details"] == {"field": "language"}
    assert gateway.rows(Interaction) == []


def test_a_replayed_trigger_answers_the_same_and_counts_once(
    gateway: Gateway, clock: Clock
) -> None:
    (key,) = keys("counted", 0.5, sampled=False, count=1)
    body = {"flow": "counted", "channel": "sms", "to": TO}
    first = post(gateway, body, key).get_json()
    again = post(gateway, body, key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first["id"]
    assert (again.get_json()["offered"], again.get_json()["reason"]) == (False, "sampled_out")
    assert len(gateway.rows(Interaction)) == 1


def test_every_batch_row_is_counted_and_the_answer_says_how_many_were_offered(
    gateway: Gateway, clock: Clock
) -> None:
    gateway.text("STOP", from_="+12025550162")
    rows = [
        anyday("+12025550161"),
        anyday("+12025550162"),  # opted out
        anyday("+1202"),  # invalid contact
        anyday("+12025550163", language="fr"),  # a mistake: refused, not an interaction
        {"flow": "anyday", "channel": "email", "to": "someone@example.com"},
    ]
    response = gateway.client.post(
        "/api/v1/surveys/batch",
        json={"surveys": rows},
        headers={"Authorization": f"Bearer {gateway.api_key}", "Idempotency-Key": "b-1"},
    )
    body = response.get_json()
    assert (body["rows"], body["accepted"], len(body["rejected"])) == (5, 3, 2)
    counted = gateway.rows(Interaction)
    assert [(i.channel, i.reason) for i in counted] == [
        ("sms", "invalid_contact"),
        ("sms", None),
        ("sms", "opted_out"),
        ("email", None),
    ]
    assert {i.batch_id for i in counted} == {body["batch_id"]}
    not_offered = {"opted_out": 1, "invalid_contact": 1}
    assert (body["offered"], body["not_offered"]) == (2, not_offered)
    replay = gateway.client.post(
        "/api/v1/surveys/batch",
        json={"surveys": rows},
        headers={"Authorization": f"Bearer {gateway.api_key}", "Idempotency-Key": "b-1"},
    ).get_json()
    assert (replay["offered"], replay["not_offered"]) == (body["offered"], not_offered)
    assert len(gateway.rows(Interaction)) == 4
