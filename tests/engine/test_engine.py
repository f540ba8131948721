"""The survey engine, driven event by event on flows built from the model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.engine.engine import new_state, step
from gateway.engine.types import Event, SessionState, StepResult
from gateway.flows.model import Flow
from tests.engine.flows import office_flow

CONTEXT = {"office": "Main St"}


def run(flow: Flow, state: SessionState, *events: Event) -> tuple[SessionState, list[StepResult]]:
    results = []
    for event in events:
        result = step(flow, state, event)
        results.append(result)
        state = result.state
    return state, results


def started(
    channel: str = "sms", language: str | None = "en", **changes: object
) -> tuple[Flow, SessionState]:
    flow = office_flow(**changes)
    state, _ = run(flow, new_state(flow, channel, language, CONTEXT), Event("start"))
    return flow, state


def test_start_on_sms_sends_the_short_notice_the_intro_and_the_first_question() -> None:
    flow = office_flow()
    result = step(flow, new_state(flow, "sms", None, CONTEXT), Event("start"))
    kinds = [p.kind for p in result.prompts]
    assert kinds == ["notice", "intro", "question"]
    assert "OMB No. 1234-5678" in result.prompts[0].text
    assert result.prompts[1].text == "Thanks for visiting Main St."
    assert result.prompts[2].text.startswith("I am satisfied with the service. Reply 1 to 5")


def test_the_voice_notice_is_the_full_form_read_digit_by_digit() -> None:
    flow = office_flow()
    result = step(flow, new_state(flow, "voice", "en", CONTEXT), Event("start"))
    notice = result.prompts[0].text
    assert "a person is not required to respond" in notice and "1 2 3 4, 5 6 7 8" in notice


def test_the_web_notice_is_the_full_form_with_the_control_number() -> None:
    flow = office_flow()
    result = step(flow, new_state(flow, "web", "es", CONTEXT), Event("start"))
    assert "1234-5678" in result.prompts[0].text and "30 de junio de 2027" in result.prompts[0].text


def test_a_flow_without_a_notice_starts_with_its_intro() -> None:
    flow = office_flow(pra=None)
    result = step(flow, new_state(flow, "sms", "en", CONTEXT), Event("start"))
    assert result.prompts[0].kind == "intro"


def test_a_low_rating_takes_the_follow_up_branch() -> None:
    flow, state = started()
    state, results = run(flow, state, Event("text", "1"))
    assert results[-1].prompts[-1].question_id == "what_went_wrong"


def test_a_high_rating_skips_the_follow_up_without_recording_it() -> None:
    flow, state = started()
    state, results = run(flow, state, Event("text", "5"))
    assert [p.kind for p in results[-1].prompts] == ["info", "question"]
    assert results[-1].prompts[-1].question_id == "minutes"
    assert "what_went_wrong" not in state.answers


def test_an_invalid_reply_is_reprompted_saying_what_is_expected() -> None:
    flow, state = started()
    state, results = run(flow, state, Event("text", "4 or 5"))
    prompt = results[-1].prompts[-1]
    assert results[-1].invalid and prompt.kind == "reprompt"
    assert prompt.text.startswith("Please answer with one number from 1 to 5. I am satisfied")
    assert state.attempts == 1


def test_after_too_many_invalid_replies_the_question_is_unanswered_and_the_survey_moves_on() -> (
    None
):
    flow, state = started()
    state, results = run(flow, state, *[Event("text", "what?")] * 3)
    assert results[-1].answers[0].outcome == "unanswered"
    assert state.answers["satisfied"] is None
    assert results[-1].prompts[-1].question_id == "minutes"


def test_a_skip_on_an_optional_question_is_recorded_as_skipped() -> None:
    flow, state = started()
    state, results = run(flow, state, Event("text", "5"), Event("text", "SKIP"))
    assert results[-1].answers[0].outcome == "skipped"
    assert state.answers["minutes"] is None


def test_a_skip_on_a_required_question_is_reprompted() -> None:
    flow, state = started()
    state, results = run(flow, state, Event("text", "skip"))
    assert results[-1].invalid and "needs an answer" in results[-1].prompts[-1].text


def test_the_last_answer_says_the_outro_and_completes_the_survey() -> None:
    flow, state = started()
    state, results = run(
        flow,
        state,
        Event("text", "2"),
        Event("text", "1,3"),
        Event("text", "20"),
        Event("text", "ok"),
    )
    assert results[-1].prompts[-1].kind == "outro" and results[-1].prompts[-1].text == "Thank you."
    assert state.status == "completed"
    assert state.answers == {
        "satisfied": 2,
        "what_went_wrong": ["wait", "other"],
        "minutes": 20,
        "comment": "ok",
    }
    assert results[0].answers[0].raw == "2"


def test_a_reply_after_the_end_gets_the_closed_reply_and_changes_nothing() -> None:
    flow, state = started(questions=office_flow().questions[:1])
    state, _ = run(flow, state, Event("text", "5"))
    result = step(flow, state, Event("text", "5"))
    assert result.prompts[0].kind == "closed" and result.state == state


def test_expire_ends_an_active_survey_without_a_prompt() -> None:
    flow, state = started()
    result = step(flow, state, Event("expire"))
    assert result.state.status == "expired" and result.prompts == ()


def test_expire_after_completion_leaves_the_survey_completed() -> None:
    flow, state = started(questions=office_flow().questions[:1])
    state, _ = run(flow, state, Event("text", "5"), Event("expire"))
    assert state.status == "completed"


def test_step_never_changes_the_state_it_is_given() -> None:
    flow, state = started()
    before = state.to_dict()
    step(flow, state, Event("text", "1"))
    assert state.to_dict() == before


def test_a_voice_call_to_a_flow_in_two_languages_starts_with_the_language_menu() -> None:
    flow = office_flow()
    result = step(flow, new_state(flow, "voice", None, CONTEXT), Event("start"))
    assert result.prompts[0].text == "For English, press 1. Para español, oprima 9."
    assert result.prompts[0].expect is not None and result.prompts[0].expect.keys == ("1", "9")


def test_pressing_nine_at_the_language_menu_continues_in_spanish() -> None:
    flow, state = started("voice", None)
    result = step(flow, state, Event("digits", "9"))
    assert result.state.language == "es"
    assert result.prompts[-1].text.startswith("Estoy satisfecho con el servicio. Oprima 1")


def test_after_too_many_wrong_keys_the_menu_picks_the_default_language() -> None:
    flow, state = started("voice", None)
    state, results = run(flow, state, Event("digits", "5"), Event("no_input"), Event("digits", "7"))
    assert results[0].prompts[0].kind == "language_menu" and results[0].invalid
    assert state.language == "en" and state.phase == "question"


def test_silence_on_the_phone_is_reprompted_then_left_unanswered() -> None:
    flow, state = started("voice", "en")
    state, results = run(flow, state, *[Event("no_input")] * 3)
    assert results[0].prompts[0].text.startswith("Sorry, I didn't hear an answer.")
    assert results[-1].answers[0].outcome == "unanswered"


def test_a_voice_question_expects_single_keys_and_star_to_skip_when_optional() -> None:
    flow, state = started("voice", "en")
    result = step(flow, state, Event("digits", "5"))
    expect = result.prompts[-1].expect
    assert expect is not None
    assert (expect.kind, expect.single_key, expect.skip_key) == ("number", False, "*")


def test_a_voice_recording_answers_a_text_question_with_its_url() -> None:
    flow, state = started("voice", "en")
    state, results = run(
        flow,
        state,
        Event("digits", "5"),
        Event("digits", "*"),
        Event("recording", "https://r.example/1"),
    )
    assert state.answers["comment"] == "https://r.example/1" and state.status == "completed"


def test_back_on_the_web_asks_the_previous_question_again_keeping_the_answer() -> None:
    flow, state = started("web", "en")
    state, results = run(flow, state, Event("text", "5"), Event("back"))
    assert results[-1].prompts[-1].question_id == "satisfied"
    assert state.answers["satisfied"] == 5


def test_changing_an_answer_that_closes_a_branch_drops_the_branch_answer() -> None:
    flow, state = started("web", "en")
    state, results = run(
        flow,
        state,
        Event("text", "1"),
        Event("text", ["staff"]),
        Event("back"),
        Event("back"),
        Event("text", "5"),
    )
    assert "what_went_wrong" not in state.answers
    assert results[-1].dropped == ("what_went_wrong",)
    assert results[-1].prompts[-1].question_id == "minutes"


def test_context_values_fill_question_text() -> None:
    flow, state = started()
    state, results = run(flow, state, Event("text", "5"), Event("text", "skip"))
    assert results[-1].prompts[-1].text.startswith("Anything else, Main St?")


def test_start_during_a_survey_asks_the_current_question_again() -> None:
    flow, state = started()
    result = step(flow, state, Event("start"))
    assert [p.question_id for p in result.prompts] == ["satisfied"] and result.state == state


def test_a_flow_in_one_language_starts_a_voice_call_without_a_menu() -> None:
    flow = office_flow(languages=("en",))
    result = step(flow, new_state(flow, "voice", None, CONTEXT), Event("start"))
    assert result.prompts[0].kind == "notice"


def test_a_language_the_flow_does_not_offer_is_refused() -> None:
    with pytest.raises(ValueError, match="no language 'fr'"):
        new_state(office_flow(), "sms", "fr", CONTEXT)


def test_the_reprompt_limit_can_be_raised() -> None:
    flow, state = started()
    for _ in range(4):
        state = step(flow, state, Event("text", "?"), max_reprompts=4).state
    assert state.attempts == 4 and "satisfied" not in state.answers


def test_an_override_is_used_as_written() -> None:
    flow = office_flow()
    question = replace(flow.questions[0], overrides={"sms": {"en": "Rate us 1-5, {office}"}})
    flow = office_flow(questions=(question,))
    result = step(flow, new_state(flow, "sms", "en", CONTEXT), Event("start"))
    assert result.prompts[-1].text == "Rate us 1-5, Main St"
