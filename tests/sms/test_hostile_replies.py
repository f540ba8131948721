"""A respondent's text with characters no store can keep is cleaned and kept, through the
signed webhook, on SQLite and PostgreSQL (where a NUL cannot be stored)."""

from __future__ import annotations

from tests.sms.support import Gateway, replies


def test_a_reply_with_nul_and_controls_is_cleaned_and_kept(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    assert replies(gateway.text("4\x00")) == ["Would you come back? Reply YES or NO."]
    assert "Anything else" in replies(gateway.text("y\x1bes"))[0]
    response = gateway.text("The line\x00 was\x07 short\ttoday\nthanks")
    assert response.status_code == 200
    survey = gateway.survey(survey_id)
    assert survey["status"] == "completed"
    assert survey["answers"] == {
        "satisfied": 4,
        "returning": "yes",
        "comment": "The line was short\ttoday\nthanks",
    }
    inbound = [m["body"] for m in survey["messages"] if m["direction"] == "inbound"]
    assert inbound[-1] == "The line was short\ttoday\nthanks"


def test_a_text_from_a_sender_with_a_nul_is_answered_not_failed(gateway: Gateway) -> None:
    response = gateway.text("hello", from_="+1202555\x000123")
    assert response.status_code == 200


def test_a_text_with_a_sid_longer_than_any_is_refused_and_writes_nothing(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    before = gateway.messages()
    response = gateway.text("4", sid="SM" + "0" * 63)
    assert response.status_code == 400
    assert "MessageSid" in response.get_data(as_text=True)
    assert len(gateway.messages()) == len(before)
    assert gateway.survey(survey_id)["answers"] == {}
