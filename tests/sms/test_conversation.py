"""A respondent's texts, through the signed webhook, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from gateway.store.db import db_of
from gateway.store.models import Message, Survey, utcnow
from tests.sms.support import RESPONDENT, Gateway, replies


def test_a_survey_runs_from_trigger_to_completed_answers_read_back(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    opening = gateway.survey(survey_id)["messages"]
    assert [m["direction"] for m in opening] == ["outbound"]
    assert "I am satisfied" in opening[0]["body"] and opening[0]["status"] == "simulated"

    assert replies(gateway.text("4")) == ["Would you come back? Reply YES or NO."]
    assert gateway.survey(survey_id)["status"] == "started"
    assert "Anything else" in replies(gateway.text("yes"))[0]
    assert replies(gateway.text("The line was short")) == ["Thank you for your feedback."]

    survey = gateway.survey(survey_id)
    assert survey["status"] == "completed" and survey["completed_at"] is not None
    assert survey["answers"] == {
        "satisfied": 4,
        "returning": "yes",
        "comment": "The line was short",
    }
    assert [m["direction"] for m in survey["messages"]] == ["outbound", "inbound"] * 3 + [
        "outbound"
    ]


def test_a_reply_that_does_not_parse_is_asked_again(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    (reprompt,) = replies(gateway.text("banana"))
    assert "1 to 5" in reprompt
    assert gateway.survey(survey_id)["answers"] == {}
    assert gateway.survey(survey_id)["status"] == "sent"


def test_a_request_with_a_bad_signature_is_refused_and_stores_nothing(gateway: Gateway) -> None:
    gateway.trigger()
    params = {"MessageSid": "SM" + "1" * 32, "From": RESPONDENT, "To": "+1", "Body": "5"}
    forged = gateway.post_signed("/twilio/sms", params, token="not-the-auth-token")
    unsigned = gateway.client.post("/twilio/sms", data=params)
    assert forged.status_code == 403 and unsigned.status_code == 403
    assert gateway.messages(Message.direction == "inbound") == []


def test_a_text_from_an_unknown_number_gets_a_helpful_reply_and_is_stored(
    gateway: Gateway,
) -> None:
    assert replies(gateway.text("5", from_="+12025550199")) == [
        "There is no open survey for this number. Thank you."
    ]
    (stored,) = gateway.messages(Message.direction == "inbound")
    assert stored.from_addr == "+12025550199" and stored.body == "5" and stored.survey_id is None


def test_a_webhook_delivered_twice_has_one_effect_and_the_same_reply(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    first = replies(gateway.text("4", sid="SM" + "a" * 32))
    again = replies(gateway.text("4", sid="SM" + "a" * 32))
    assert again == first == ["Would you come back? Reply YES or NO."]
    assert len(gateway.messages(Message.direction == "inbound")) == 1
    assert len(gateway.outbound(survey_id)) == 2
    assert "yes" not in str(gateway.survey(survey_id)["answers"])


def test_a_text_after_the_survey_finished_is_told_so_politely(gateway: Gateway) -> None:
    gateway.trigger()
    for body in ("5", "yes", "skip"):
        gateway.text(body)
    assert replies(gateway.text("5")) == ["You have already finished this survey. Thank you."]


def test_a_reply_after_the_survey_expired_is_told_it_closed(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    with db_of(gateway.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        survey.expires_at = utcnow() - timedelta(minutes=1)
    assert replies(gateway.text("5")) == ["Sorry, this survey has closed. Thank you."]
    assert gateway.survey(survey_id)["status"] == "expired"
    assert gateway.survey(survey_id)["answers"].get("satisfied") is None


def test_a_spanish_survey_speaks_spanish(gateway: Gateway) -> None:
    survey_id = gateway.trigger(language="es")["id"]
    assert gateway.survey(survey_id)["messages"][0]["body"].startswith("Gracias por su visita.")
    (question,) = replies(gateway.text("5"))
    assert question.startswith("¿Volvería?")


def test_a_second_trigger_cancels_the_open_survey_and_keeps_its_answers(gateway: Gateway) -> None:
    first = gateway.trigger()["id"]
    gateway.text("2")
    second = gateway.trigger()["id"]
    first_now = gateway.survey(first)
    assert first_now["status"] == "cancelled"
    assert first_now["answers"] == {"satisfied": 2}
    assert first_now["failure_reason"] == f"superseded by survey {second}"
    gateway.text("5")
    assert gateway.survey(second)["answers"] == {"satisfied": 5}
