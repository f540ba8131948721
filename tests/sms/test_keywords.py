"""STOP, START and HELP, and start keywords from posters."""

from __future__ import annotations

import pytest

from gateway.agencies.keys import ensure_agency
from gateway.store.db import db_of
from gateway.store.models import Message, Survey
from gateway.store.sealing import contact_hash
from tests.sms.support import Gateway, replies

OPT_OUT_EN = "You are unsubscribed and will get no more messages. Reply START to subscribe again."


@pytest.mark.parametrize("body", ["STOP", "stop.", " Unsubscribe ", "opt out", "Quit!", "REVOKE"])
def test_stop_in_any_form_opts_out_with_one_confirmation(gateway: Gateway, body: str) -> None:
    survey_id = gateway.trigger()["id"]
    assert replies(gateway.text(body)) == [OPT_OUT_EN]
    assert gateway.opted_out()
    assert gateway.status_of(survey_id) == "opted_out"


def test_spanish_parar_opts_out_with_a_spanish_confirmation(gateway: Gateway) -> None:
    gateway.trigger()
    (confirmation,) = replies(gateway.text("Parar"))
    assert confirmation.startswith("Ya no recibirá más mensajes.")
    assert gateway.opted_out()


def test_stop_answers_in_the_language_of_the_survey(gateway: Gateway) -> None:
    gateway.trigger(language="es")
    (confirmation,) = replies(gateway.text("STOP"))
    assert confirmation.startswith("Ya no recibirá")


def test_a_trigger_after_stop_is_opted_out_and_sends_nothing(gateway: Gateway) -> None:
    gateway.text("STOP")
    created = gateway.trigger()
    assert created["status"] == "opted_out"
    assert gateway.outbound(created["id"]) == []
    assert gateway.survey(created["id"])["messages"] == []


def test_start_resubscribes_and_later_triggers_are_sent(gateway: Gateway) -> None:
    gateway.text("STOP")
    assert replies(gateway.text("Start")) == ["You are subscribed again. Reply STOP to stop."]
    assert not gateway.opted_out()
    assert gateway.trigger()["status"] in ("queued", "sent")
    assert gateway.rows(Survey)[-1].status == "sent"


def test_yes_resubscribes_only_a_number_that_opted_out(gateway: Gateway) -> None:
    gateway.text("STOP")
    assert replies(gateway.text("yes")) == ["You are subscribed again. Reply STOP to stop."]
    survey_id = gateway.trigger()["id"]
    gateway.text("4")
    assert replies(gateway.text("yes"))[0].startswith("Anything else")
    assert gateway.survey(survey_id)["answers"]["returning"] == "yes"
    assert not gateway.opted_out()


def test_help_names_the_program_the_contact_rates_and_how_to_stop(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    (help_text,) = replies(gateway.text("HELP"))
    assert "DMV Customer Service" in help_text
    assert "help@dmv.example.gov" in help_text
    assert "Msg & data rates may apply" in help_text and "STOP" in help_text
    assert gateway.survey(survey_id)["status"] == "sent"


def test_help_from_a_number_with_no_survey_gets_the_programs_help_text(gateway: Gateway) -> None:
    (help_text,) = replies(gateway.text("HELP", from_="+12025550999"))
    assert "There is no open survey" not in help_text
    assert "DMV Customer Service" in help_text
    assert "help@dmv.example.gov" in help_text
    assert "Msg & data rates may apply" in help_text and "STOP" in help_text
    (ayuda,) = replies(gateway.text("ayuda", from_="+12025550999"))
    assert "Pueden aplicarse tarifas de mensajes y datos" in ayuda


def test_help_from_an_unknown_number_on_a_gateway_of_several_agencies_names_none(
    gateway: Gateway,
) -> None:
    with db_of(gateway.app).session() as session:
        ensure_agency(session, "irs", name="Internal Revenue Service")
    (help_text,) = replies(gateway.text("help", from_="+12025550999"))
    assert "There is no open survey" not in help_text
    assert "DMV" not in help_text and "Internal Revenue" not in help_text
    assert "Msg & data rates may apply" in help_text and "STOP" in help_text


def test_ayuda_gets_the_help_reply_in_spanish(gateway: Gateway) -> None:
    gateway.trigger()
    (help_text,) = replies(gateway.text("ayuda"))
    assert "Pueden aplicarse tarifas de mensajes y datos" in help_text


def test_a_start_keyword_starts_its_flow_for_the_texting_number(gateway: Gateway) -> None:
    (question,) = replies(gateway.text("poll", from_="+12025550177"))
    assert question.startswith("Was it easy to find what you needed?")
    (survey,) = gateway.rows(Survey, Survey.contact_hash == contact_hash("+12025550177"))
    assert (survey.flow_id, survey.status) == ("quick-poll", "sent")
    assert replies(gateway.text("yes", from_="+12025550177"))
    assert gateway.survey(survey.id)["answers"] == {"easy": "yes"}


def test_a_start_keyword_fills_the_flows_context_from_the_rest_of_the_text(
    gateway: Gateway,
) -> None:
    (opening,) = replies(gateway.text("LOBBY Downtown"))
    assert opening.startswith("Thanks for visiting the Downtown office.")
    (survey,) = gateway.rows(Survey)
    assert survey.context == {"office": "Downtown"}


def test_a_start_keyword_without_the_value_its_flow_needs_starts_nothing(
    gateway: Gateway,
) -> None:
    assert replies(gateway.text("LOBBY")) == ["There is no open survey for this number. Thank you."]
    assert gateway.rows(Survey) == []
    assert len(gateway.messages(Message.direction == "inbound")) == 1


def test_a_start_keyword_from_an_opted_out_number_starts_nothing(gateway: Gateway) -> None:
    gateway.text("STOP")
    gateway.text("POLL")
    assert gateway.rows(Survey) == []


def test_a_free_text_answer_that_begins_with_a_keyword_is_an_answer(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    gateway.text("5")
    gateway.text("no")
    gateway.text("Poll workers were kind")
    assert gateway.survey(survey_id)["answers"]["comment"] == "Poll workers were kind"
    assert [s.id for s in gateway.rows(Survey)] == [survey_id]
