"""A question marked ``handoff: web``: SMS sends the web link in its place; the other
channels ask it as usual."""

from __future__ import annotations

from dataclasses import replace

from gateway.engine.engine import new_state, step
from gateway.engine.types import LINK_PLACEHOLDER, Event, SessionState, StepResult
from gateway.flows.model import Flow
from gateway.flows.when import parse_when
from tests.engine.flows import COMMENT, MINUTES, SATISFIED, WHAT_WENT_WRONG, office_flow

CONTEXT = {"office": "Main St"}
#: The multiple choice question goes to the web; the comment after it is asked there too.
HANDOFF_FLOW = office_flow(
    questions=(SATISFIED, replace(WHAT_WENT_WRONG, handoff="web"), MINUTES, COMMENT)
)


def run(
    flow: Flow, channel: str, *events: Event, language: str = "en"
) -> tuple[SessionState, StepResult]:
    state = new_state(flow, channel, language, CONTEXT)
    result = step(flow, state, Event("start"))
    for event in events:
        result = step(flow, result.state, event)
    return result.state, result


def test_sms_reaching_a_handoff_question_sends_the_link_prompt_instead_of_the_question() -> None:
    _, result = run(HANDOFF_FLOW, "sms", Event("text", "2"))
    (prompt,) = result.prompts
    assert prompt.kind == "handoff"
    assert prompt.text == f"To answer the rest, open this link: {LINK_PLACEHOLDER}"
    assert prompt.expect is None and prompt.question_id == "what_went_wrong"


def test_the_handoff_prompt_is_in_the_respondents_language() -> None:
    _, result = run(HANDOFF_FLOW, "sms", Event("text", "2"), language="es")
    spanish = f"Para responder el resto, abra este enlace: {LINK_PLACEHOLDER}"
    assert result.prompts[0].text == spanish


def test_after_the_handoff_the_state_waits_on_the_web_at_that_question() -> None:
    state, result = run(HANDOFF_FLOW, "sms", Event("text", "2"))
    assert (state.channel, state.handed_off_from, state.handoff_question) == (
        "web",
        "sms",
        "what_went_wrong",
    )
    assert state.phase == "question" and state.status == "active"
    assert HANDOFF_FLOW.questions[state.index].id == "what_went_wrong"
    assert state.answers == {"satisfied": 2}
    assert [a.question_id for a in result.answers] == ["satisfied"]


def test_the_handed_off_question_takes_a_web_form_answer() -> None:
    state, result = run(HANDOFF_FLOW, "sms", Event("text", "2"), Event("text", ["wait", "staff"]))
    assert state.answers["what_went_wrong"] == ["wait", "staff"]
    assert result.prompts[0].kind == "question" and result.prompts[0].question_id == "minutes"
    # The web wording: no "Reply with a number" instructions.
    assert result.prompts[0].text == "How many minutes did you wait?"


def test_a_handed_off_survey_finishes_on_the_web_with_every_answer() -> None:
    state, result = run(
        HANDOFF_FLOW,
        "sms",
        Event("text", "1"),
        Event("text", ["other"]),
        Event("text", "25"),
        Event("text", "Too slow"),
    )
    assert state.status == "completed" and state.channel == "web"
    assert state.answers == {
        "satisfied": 1,
        "what_went_wrong": ["other"],
        "minutes": 25,
        "comment": "Too slow",
    }
    assert result.prompts[-1].kind == "outro"


def test_voice_ignores_the_handoff_and_asks_the_question() -> None:
    state, result = run(HANDOFF_FLOW, "voice", Event("digits", "2"))
    assert [p.kind for p in result.prompts] == ["question"]
    assert result.prompts[0].question_id == "what_went_wrong"
    assert "press 1" in result.prompts[0].text
    assert state.channel == "voice" and state.handed_off_from is None


def test_the_web_ignores_the_handoff_and_asks_the_question() -> None:
    state, result = run(HANDOFF_FLOW, "web", Event("text", "2"))
    assert [p.kind for p in result.prompts] == ["question"]
    assert result.prompts[0].text == "What went wrong?"
    assert state.channel == "web" and state.handed_off_from is None


def test_a_handoff_question_whose_when_is_false_is_skipped_and_sms_goes_on() -> None:
    state, result = run(HANDOFF_FLOW, "sms", Event("text", "5"))
    assert [p.kind for p in result.prompts] == ["question"]
    assert result.prompts[0].question_id == "minutes"
    assert state.channel == "sms" and state.handed_off_from is None


def test_a_handoff_at_the_first_question_follows_the_notice_and_intro() -> None:
    flow = office_flow(questions=(replace(COMMENT, handoff="web"),))
    state, result = run(flow, "sms")
    assert [p.kind for p in result.prompts] == ["notice", "intro", "handoff"]
    assert state.channel == "web" and state.handoff_question == "comment"


def test_a_handoff_later_in_the_flow_still_applies_after_a_when() -> None:
    late = replace(COMMENT, handoff="web", when=parse_when("minutes >= 10"))
    flow = office_flow(questions=(SATISFIED, MINUTES, late))
    _, short_wait = run(flow, "sms", Event("text", "4"), Event("text", "3"))
    _, long_wait = run(flow, "sms", Event("text", "4"), Event("text", "30"))
    assert [p.kind for p in short_wait.prompts] == ["outro"]
    assert [p.kind for p in long_wait.prompts] == ["handoff"]


def test_a_handed_off_state_round_trips_through_its_dict() -> None:
    state, _ = run(HANDOFF_FLOW, "sms", Event("text", "2"))
    assert SessionState.from_dict(state.to_dict()) == state


def test_a_state_stored_before_handoffs_existed_reads_as_not_handed_off() -> None:
    old = {"channel": "sms", "language": "en", "phase": "question", "index": 1}
    state = SessionState.from_dict(old)
    assert state.handed_off_from is None and state.handoff_question is None
    assert not state.handed_off
