"""Every shipped flow, called through to its end on the keypad, in English and Spanish."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from gateway.flows.registry import FlowRegistry
from tests.conftest import SHIPPED_FLOWS
from tests.voice.call_simulator import CallSimulator, SimulatedCall
from tests.voice.conftest import survey_of_call

RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1"
CONTEXT = {"office": "Downtown", "agent": "Maria", "queue": "benefits"}


def voice_flows() -> list[str]:
    registry = FlowRegistry.load_directory(Path(SHIPPED_FLOWS))
    return sorted(f.id for f in registry.flows.values() if "voice" in f.channels)


def dial_url(flow_id: str, language: str | None) -> str:
    registry = FlowRegistry.load_directory(Path(SHIPPED_FLOWS))
    flow = registry.flows[flow_id]
    query = [f"flow={flow_id}"] + [f"{name}={CONTEXT[name]}" for name in flow.context]
    if language:
        query.append(f"language={language}")
    return "/twilio/voice?" + "&".join(query)


def answer_everything(call: SimulatedCall, key: str = "2") -> SimulatedCall:
    """Answer each question with ``key`` (and ``key#`` where several keys are taken)."""
    for _ in range(40):
        if call.ended:
            return call
        if call.waiting.verb == "Record":
            call.record(RECORDING, 6)
        elif call.waiting.num_digits == 1:
            call.press(key)
        else:
            call.press(f"{key}#")
    raise AssertionError("the call did not end after 40 answers")


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("flow_id", voice_flows())
def test_every_voice_flow_runs_to_its_end_with_every_answer_stored(
    app: Flask, phone: CallSimulator, flow_id: str, language: str
) -> None:
    call = answer_everything(phone.dial(dial_url(flow_id, language)))
    survey = survey_of_call(app, call.sid)
    assert survey.status == "completed"
    assert survey.language == language
    assert survey.answers, "no answer was stored"
    assert all(a.outcome == "answered" and a.value is not None for a in survey.answers)
    assert all(say["language"] == f"{language}-US" for say in call.says)


def test_a_five_pressed_on_the_satisfaction_statement_is_stored_as_five(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(dial_url("a11-seven-drivers", "en")).press("5")
    answers = {a.question_id: a.value for a in survey_of_call(app, call.sid).answers}
    assert answers == {"satisfaction": 5}


def test_a_multiple_choice_takes_keys_one_after_another_then_pound(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(dial_url("a11-v2-post-transaction", "en")).press("1").press("25#")
    answers = {a.question_id: a.value for a in survey_of_call(app, call.sid).answers}
    assert answers == {"trust": "yes", "went_well": ["ease", "humanity"]}


def test_a_recorded_comment_stores_the_recording_url(app: Flask, phone: CallSimulator) -> None:
    call = phone.dial(dial_url("call-center-post-call", "en")).press("1").press("5")
    call.record(RECORDING, 12)
    survey = survey_of_call(app, call.sid)
    assert {a.question_id: a.value for a in survey.answers}["comment"] == RECORDING
    assert "Goodbye" in call.heard[-1]
    assert survey.status == "completed"


def test_a_call_naming_no_language_offers_the_menu_in_each_language_s_voice(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(dial_url("call-center-post-call", None))
    assert call.says == [
        {"text": "For English, press 1.", "language": "en-US", "voice": "Polly.Joanna"},
        {"text": "Para español, oprima 9.", "language": "es-US", "voice": "Polly.Lupe"},
    ]


def test_choosing_spanish_from_the_menu_carries_on_in_spanish(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(dial_url("call-center-post-call", None)).press("9")
    assert "¿Respondimos su pregunta hoy?" in call.heard[-1]
    assert call.says[-1]["voice"] == "Polly.Lupe"
    assert survey_of_call(app, call.sid).language == "es"


def test_the_pra_notice_is_read_before_the_first_question(phone: CallSimulator) -> None:
    call = phone.dial(dial_url("office-visit", "en"))
    assert "OMB control number" in call.heard[0]
    assert call.heard[-1].startswith("I am satisfied with the service I received today.")


def test_the_caller_s_number_and_the_url_s_context_are_kept_with_the_survey(
    app: Flask, phone: CallSimulator
) -> None:
    call = phone.dial(dial_url("call-center-post-call", "en"), caller="+12025550188")
    survey = survey_of_call(app, call.sid)
    assert survey.contact == "+12025550188"
    assert survey.context == {"agent": "Maria", "queue": "benefits"}
    assert survey.flow_id == "call-center-post-call"
    assert survey.channel == "voice"
