"""The common inbound text (a reply to the open survey) in two statements on PostgreSQL,
and everything else left, with nothing written, to the general path."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from twilio.twiml.messaging_response import MessagingResponse

from gateway.agencies.keys import ensure_agency
from gateway.alerts.rules import DISPATCH_KEY
from gateway.sms import quick_reply as sms_quick_reply
from gateway.sms.quick_reply import quick_reply
from gateway.sms.webhooks import twiml_messages
from gateway.store.db import db_of, upgrade
from gateway.store.models import Answer, Message, Survey, utcnow
from gateway.store.results_models import Delivery, WebhookSubscription
from gateway.store.sealing import contact_hash
from tests.sms.support import GATEWAY_NUMBER, RESPONDENT, Gateway, make_gateway, replies

OTHER = "+12025550188"


def quick(gw: Gateway, body: str, *, from_: str = RESPONDENT, sid: str | None = None) -> Any:
    return quick_reply(
        db_of(gw.app).engine,
        gw.app.extensions["flows"],
        sid=sid or "SM" + secrets.token_hex(16),
        from_=from_,
        to=GATEWAY_NUMBER,
        body=body,
        now=utcnow(),
        max_reprompts=gw.app.extensions["settings"].max_reprompts,
        reply_status="simulated",
    )


def stored(gw: Gateway) -> tuple[int, int]:
    """How many messages and answers the store holds."""
    return len(gw.rows(Message)), len(gw.rows(Answer))


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.postgres
def test_a_conversation_is_stored_reply_by_reply(pg_gateway: Gateway) -> None:
    gw = pg_gateway
    survey_id = gw.trigger()["id"]
    sends = counter("gateway_messages_total", channel="sms", status="simulated")
    completions = counter("gateway_surveys_completed_total", channel="sms")

    assert quick(gw, "4") == ["Would you come back? Reply YES or NO."]
    assert gw.status_of(survey_id) == "started"
    assert quick(gw, "yes") == [
        "Anything else you would like to tell us? Reply with your answer. Reply SKIP to skip."
    ]
    # A free-text answer is redacted and read on the general path: the lane declines it.
    before = stored(gw)
    assert quick(gw, "The line was short") is None
    assert stored(gw) == before
    assert replies(gw.text("The line was short")) == ["Thank you for your feedback."]

    survey = gw.survey(survey_id)
    assert survey["status"] == "completed" and survey["completed_at"] is not None
    assert survey["started_at"] is not None
    assert survey["answers"] == {
        "satisfied": 4,
        "returning": "yes",
        "comment": "The line was short",
    }
    with db_of(gw.app).session() as session:
        row = session.get(Survey, survey_id)
        assert row is not None and row.first_answered_at is not None
        assert {a.survey_created_at for a in row.answers} == {row.created_at}
    messages = gw.messages(Message.survey_id == survey_id)
    assert [(m.direction, m.step_key) for m in messages] == [
        ("outbound", f"{survey_id}:0"),
        ("inbound", None),
        ("outbound", f"{survey_id}:1"),
        ("inbound", None),
        ("outbound", f"{survey_id}:2"),
        ("inbound", None),
        ("outbound", f"{survey_id}:3"),
    ]
    assert {(m.from_addr, m.contact_hash) for m in messages if m.direction == "inbound"} == {
        (RESPONDENT, contact_hash(RESPONDENT))
    }
    assert {(m.to_addr, m.status) for m in messages[1:] if m.direction == "outbound"} == {
        (RESPONDENT, "simulated")
    }
    with db_of(gw.app).engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT from_addr, to_addr FROM messages")).all()
    assert all(RESPONDENT not in (a or "") + (b or "") for a, b in raw), "sealed at rest"
    assert counter("gateway_messages_total", channel="sms", status="simulated") == sends + 3
    assert counter("gateway_surveys_completed_total", channel="sms") == completions + 1


def converse(gw: Gateway, number: str, texts: list[str]) -> dict[str, Any]:
    survey_id = gw.trigger(to=number)["id"]
    for text in texts:
        replies(gw.text(text, from_=number))
    return gw.survey(survey_id)


def comparable(gw: Gateway, survey: dict[str, Any]) -> Any:
    with db_of(gw.app).session() as session:
        row = session.get(Survey, survey["id"])
        assert row is not None
        stored = (
            row.state["answers"],
            row.started_at is not None,
            row.first_answered_at is not None,
            sorted((a.question_id, a.raw, a.outcome) for a in row.answers),
        )
    return (
        survey["status"],
        survey["answers"],
        [(m["direction"], m["body"], m["status"]) for m in survey["messages"]],
        stored,
    )


@pytest.mark.postgres
def test_a_connection_checked_for_liveness_serves_the_reply(
    pg_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pooled connection idle for a while is pinged when taken, which opens a transaction.
    monkeypatch.setattr("gateway.store.db.IDLE_PING_SECONDS", -1.0)
    survey_id = pg_gateway.trigger()["id"]
    assert quick(pg_gateway, "4") == ["Would you come back? Reply YES or NO."]
    assert quick(pg_gateway, "yes") is not None
    assert pg_gateway.survey(survey_id)["answers"] == {"satisfied": 4, "returning": "yes"}


@pytest.mark.postgres
@pytest.mark.parametrize(
    "texts",
    [["banana", "9", "5", "maybe", "no", "Clean and quick"], ["1", "YES", "skip"], ["x"] * 6],
    ids=["reprompts", "skip", "never-answered"],
)
def test_both_paths_store_the_same_conversation(
    pg_gateway: Gateway, monkeypatch: pytest.MonkeyPatch, texts: list[str]
) -> None:
    served = converse(pg_gateway, RESPONDENT, texts)
    monkeypatch.setattr("gateway.sms.webhooks.quick_reply", lambda *a, **k: None)
    general = converse(pg_gateway, OTHER, texts)
    assert comparable(pg_gateway, served) == comparable(pg_gateway, general)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "body",
    ["STOP", "HELP", "START", "POLL", "lobby please"],
    ids=["stop", "help", "start", "start-keyword", "start-keyword-and-words"],
)
def test_keywords_are_left_to_the_general_path(pg_gateway: Gateway, body: str) -> None:
    pg_gateway.trigger()
    before = stored(pg_gateway)
    assert quick(pg_gateway, body) is None
    assert stored(pg_gateway) == before


@pytest.mark.postgres
def test_a_number_without_an_open_survey_is_left_to_the_general_path(
    pg_gateway: Gateway,
) -> None:
    assert quick(pg_gateway, "5") is None
    assert stored(pg_gateway) == (0, 0)
    assert replies(pg_gateway.text("5")) == ["There is no open survey for this number. Thank you."]


@pytest.mark.postgres
def test_a_survey_past_its_expiry_is_left_to_the_general_path(pg_gateway: Gateway) -> None:
    survey_id = pg_gateway.trigger()["id"]
    with db_of(pg_gateway.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        survey.expires_at = utcnow() - timedelta(minutes=1)
    before = stored(pg_gateway)
    assert quick(pg_gateway, "4") is None
    assert stored(pg_gateway) == before
    assert replies(pg_gateway.text("4")) == ["Sorry, this survey has closed. Thank you."]
    assert pg_gateway.status_of(survey_id) == "expired"


@pytest.mark.postgres
def test_a_repeated_message_sid_writes_nothing_the_second_time(pg_gateway: Gateway) -> None:
    survey_id = pg_gateway.trigger()["id"]
    first = quick(pg_gateway, "4", sid="SM" + "d" * 32)
    after_first = stored(pg_gateway)
    assert quick(pg_gateway, "4", sid="SM" + "d" * 32) is None
    assert stored(pg_gateway) == after_first
    # Twilio's second delivery through the webhook gets the first replies again.
    assert replies(pg_gateway.text("4", sid="SM" + "d" * 32)) == first
    assert stored(pg_gateway) == after_first
    assert pg_gateway.survey(survey_id)["answers"] == {"satisfied": 4}


@pytest.mark.postgres
def test_a_survey_changed_between_read_and_write_writes_nothing(
    pg_gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    survey_id = pg_gateway.trigger()["id"]
    engine = db_of(pg_gateway.app).engine
    engine_step = sms_quick_reply.step

    def racing(*args: Any, **kwargs: Any) -> Any:
        # Another worker stores a reply to the same survey after it was read here.
        with engine.begin() as conn:
            conn.execute(
                sa.update(Survey).where(Survey.id == survey_id).values(updated_at=utcnow())
            )
        return engine_step(*args, **kwargs)

    monkeypatch.setattr(sms_quick_reply, "step", racing)
    before = stored(pg_gateway)
    assert quick(pg_gateway, "4") is None
    assert stored(pg_gateway) == before
    assert pg_gateway.survey(survey_id)["answers"] == {}


@pytest.mark.postgres
def test_a_completion_with_a_webhook_to_deliver_is_left_to_the_general_path(
    pg_gateway: Gateway,
) -> None:
    pg_gateway.app.extensions.pop(DISPATCH_KEY)  # recorded, not sent: no network here
    with db_of(pg_gateway.app).session() as session:
        agency = ensure_agency(session, "dmv")
        session.add(WebhookSubscription(agency_id=agency.id, url="https://hooks.example.gov/a"))
    survey_id = pg_gateway.trigger()["id"]
    assert quick(pg_gateway, "4") is not None
    assert quick(pg_gateway, "yes") is not None
    before = stored(pg_gateway)
    assert quick(pg_gateway, "Fine") is None
    assert stored(pg_gateway) == before
    assert replies(pg_gateway.text("Fine")) == ["Thank you for your feedback."]
    with db_of(pg_gateway.app).session() as session:
        events = session.scalars(sa.select(Delivery.event).where(Delivery.survey_id == survey_id))
        assert list(events) == ["survey.completed"]


def test_on_sqlite_every_text_takes_the_general_path(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    upgrade(url)
    gateway = make_gateway(url)
    survey_id = gateway.trigger()["id"]
    assert quick(gateway, "4") is None
    assert stored(gateway) == (1, 0)
    assert replies(gateway.text("4")) == ["Would you come back? Reply YES or NO."]
    assert gateway.survey(survey_id)["answers"] == {"satisfied": 4}


@pytest.mark.parametrize(
    "texts",
    [[], ["Thanks"], ["a & b < c > d \" ' é 😀\nline two\r\n\ttab"], ["one", "two"], ["]]>"]],
)
def test_the_twiml_is_what_the_helper_library_writes(texts: list[str]) -> None:
    expected = MessagingResponse()
    for text in texts:
        expected.message(text)
    assert twiml_messages(texts) == str(expected)
