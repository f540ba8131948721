"""Properties over any input: parsers never raise; the engine never raises or loses answers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.engine.engine import new_state, step
from gateway.engine.parsing import parse_keypad, parse_sms, parse_web
from gateway.engine.types import Event
from tests.engine.flows import office_flow

QUESTIONS = [q for q in office_flow().questions if q.answerable]
question = st.sampled_from(QUESTIONS)


@given(question, st.text(), st.sampled_from(["en", "es", "fr"]))
def test_parse_sms_never_raises(q, text, language) -> None:  # type: ignore[no-untyped-def]
    assert parse_sms(q, text, language).ok in (True, False)


@given(question, st.text(alphabet="0123456789*#", max_size=30) | st.text())
def test_parse_keypad_never_raises(q, digits) -> None:  # type: ignore[no-untyped-def]
    assert parse_keypad(q, digits).ok in (True, False)


@given(question, st.none() | st.text() | st.lists(st.text()))
def test_parse_web_never_raises(q, value) -> None:  # type: ignore[no-untyped-def]
    assert parse_web(q, value).ok in (True, False)


events = st.builds(
    Event,
    st.sampled_from(["start", "text", "digits", "recording", "no_input", "expire", "back"]),
    st.none() | st.text(max_size=20) | st.sampled_from(["1", "2", "5", "13", "*", "skip", "yes"]),
)


@settings(max_examples=300)
@given(st.sampled_from(["sms", "voice", "web"]), st.lists(events, max_size=25))
def test_step_never_raises_and_never_loses_an_answer(channel, sequence) -> None:  # type: ignore[no-untyped-def]
    flow = office_flow()
    state = new_state(flow, channel, None, {"office": "Main St"})
    recorded: dict[str, object] = {}
    for event in sequence:
        result = step(flow, state, event)
        for answer in result.answers:
            recorded[answer.question_id] = answer.value
        for question_id in result.dropped:
            recorded.pop(question_id, None)
        state = result.state
        assert state.answers == recorded
