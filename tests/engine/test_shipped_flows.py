"""Every shipped flow runs to the end in every language on SMS and on the phone keypad,
through the same engine the channels use: branches taken and skipped, an invalid answer
re-prompted, optional questions skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.engine.engine import language_keys, new_state, step
from gateway.engine.types import Event, Prompt, SessionState
from gateway.flows.answers import AnswerValue
from gateway.flows.model import Flow, Question
from gateway.flows.registry import FlowRegistry

SHIPPED = FlowRegistry.load_directory(Path(__file__).resolve().parents[2] / "flows")
SKIP_WORD = {"en": "skip", "es": "omitir"}
YES_WORD = {"en": "yes", "es": "sí"}
NO_WORD = {"en": "no", "es": "no"}


def _cases() -> Iterator[tuple[str, str, str]]:
    for flow in sorted(SHIPPED.flows.values(), key=lambda f: f.id):
        for channel in ("sms", "voice"):
            if channel in flow.channels:
                for language in flow.languages:
                    yield flow.id, channel, language


def _answer(question: Question, channel: str, language: str, mood: str) -> Event:
    """A valid reply: the lowest answers when unhappy, the highest when happy; optional
    questions skipped when unhappy."""
    low = mood == "unhappy"
    if question.optional and low:
        return Event("digits", "*") if channel == "voice" else Event("text", SKIP_WORD[language])
    if question.type == "rating":
        value = str(question.scale[0] if low else question.scale[1])
        return Event("digits" if channel == "voice" else "text", value)
    if question.type == "yesno":
        if channel == "voice":
            return Event("digits", "2" if low else "1")
        return Event("text", NO_WORD[language] if low else YES_WORD[language])
    if question.type == "choice":
        keys = [o.key for o in question.options][: 2 if question.multiple else 1]
        if channel == "voice":
            return Event("digits", "".join(keys))
        return Event("text", ",".join(keys))
    if question.type == "number":
        return Event("digits" if channel == "voice" else "text", str(question.min or 0))
    if channel == "voice":
        return Event("recording", "https://api.twilio.com/recordings/RE123")
    return Event("text", "The staff were kind." if language == "en" else "Muy amables.")


def _invalid(question: Question, channel: str) -> Event | None:
    if question.type in ("text", "message"):
        return None
    return Event("digits", "") if channel == "voice" else Event("text", "purple elephant")


def _current(prompts: tuple[Prompt, ...]) -> Prompt | None:
    return next((p for p in reversed(prompts) if p.expect is not None), None)


def _run(flow: Flow, channel: str, language: str, mood: str) -> tuple[SessionState, list[str]]:
    context = {name: "Downtown" for name in flow.context}
    state = new_state(flow, channel, language, context)
    result = step(flow, state, Event("start"))
    reprompted: list[str] = []
    invalid_sent = False
    for _ in range(200):
        if result.finished:
            return result.state, reprompted
        prompt = _current(result.prompts)
        assert prompt is not None and prompt.question_id is not None, result.prompts
        question = flow.question(prompt.question_id)
        invalid = None if invalid_sent else _invalid(question, channel)
        if invalid is not None:
            invalid_sent = True
            result = step(flow, result.state, invalid)
            assert result.invalid and result.prompts[0].kind == "reprompt"
            reprompted.append(question.id)
            continue
        result = step(flow, result.state, _answer(question, channel, language, mood))
        assert not result.invalid, (question.id, result.prompts)
    raise AssertionError("the survey never ended")


def _expected_answers(flow: Flow, answers: dict[str, AnswerValue]) -> set[str]:
    asked: dict[str, AnswerValue] = {}
    for q in flow.questions:
        if q.answerable and (q.when is None or q.when.evaluate(asked)):
            asked[q.id] = answers.get(q.id)
    return set(asked)


def test_every_shipped_flow_loads() -> None:
    assert not SHIPPED.refused
    assert {
        "a11-v2-post-transaction",
        "a11-seven-drivers",
        "call-center-post-call",
        "office-visit",
    } <= set(SHIPPED.flows)


@pytest.mark.parametrize(("flow_id", "channel", "language"), list(_cases()))
@pytest.mark.parametrize("mood", ["happy", "unhappy"])
def test_a_shipped_flow_runs_to_completion(
    flow_id: str, channel: str, language: str, mood: str
) -> None:
    flow = SHIPPED.flows[flow_id]
    state, reprompted = _run(flow, channel, language, mood)
    assert state.status == "completed"
    assert state.language == language
    assert len(reprompted) == 1
    assert set(state.answers) == _expected_answers(flow, state.answers)
    for q in flow.questions:
        if q.id in state.answers and q.optional and mood == "unhappy":
            assert state.answers[q.id] is None


BRANCHING = sorted(f.id for f in SHIPPED.flows.values() if any(q.when for q in f.questions))


def test_most_shipped_flows_branch() -> None:
    assert len(BRANCHING) >= 3


@pytest.mark.parametrize("flow_id", BRANCHING)
def test_a_branch_is_taken_in_one_run_and_skipped_in_another(flow_id: str) -> None:
    flow = SHIPPED.flows[flow_id]
    happy, _ = _run(flow, "sms", flow.default_language, "happy")
    unhappy, _ = _run(flow, "sms", flow.default_language, "unhappy")
    assert set(happy.answers) != set(unhappy.answers)


def test_a_voice_call_to_a_bilingual_flow_chooses_spanish_from_the_menu() -> None:
    flow = SHIPPED.flows["call-center-post-call"]
    state = new_state(flow, "voice", None, {name: "x" for name in flow.context})
    first = step(flow, state, Event("start"))
    assert first.prompts[0].kind == "language_menu"
    spanish_key = {lang: key for key, lang in language_keys(flow).items()}["es"]
    chosen = step(flow, first.state, Event("digits", spanish_key))
    assert chosen.state.language == "es"
    assert any("oprima" in p.text.lower() for p in chosen.prompts)
