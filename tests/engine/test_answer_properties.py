"""Properties with an oracle: what the parsers accept and record, for any number and any
scale, on every channel."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.engine.parsing import parse_keypad, parse_sms, parse_web
from gateway.flows.model import Question


@st.composite
def rating_and_scale(draw: st.DrawFn) -> tuple[Question, int, int]:
    low = draw(st.integers(0, 1))
    high = draw(st.integers(low + 2, 10))
    question = Question(id="rating", type="rating", scale=(low, high), prompt={"en": "Rate"})
    return question, low, high


@given(rating_and_scale(), st.data())
def test_every_number_on_the_scale_is_recorded_as_itself_on_every_channel(
    drawn: tuple[Question, int, int], data: st.DataObject
) -> None:
    question, low, high = drawn
    value = data.draw(st.integers(low, high))
    padding = data.draw(st.sampled_from(["", " ", "  ", "\n"]))
    assert parse_sms(question, f"{padding}{value}{padding}", "en").value == value
    assert parse_web(question, str(value)).value == value
    digits = str(value) if value < 10 else f"{value}#"
    assert parse_keypad(question, digits).value == value


@given(rating_and_scale(), st.data())
def test_a_number_off_the_scale_is_never_recorded(
    drawn: tuple[Question, int, int], data: st.DataObject
) -> None:
    question, low, high = drawn
    value = data.draw(st.integers(high + 1, 10_000) | st.integers(-10_000, low - 1))
    assert not parse_sms(question, str(value), "en").ok
    assert not parse_web(question, str(value)).ok


@given(st.integers(0, 600), st.integers(0, 600), st.integers(-1000, 2000))
def test_a_number_answer_is_accepted_exactly_when_within_its_bounds(
    low: int, span: int, value: int
) -> None:
    question = Question(id="n", type="number", min=low, max=low + span, prompt={"en": "How many?"})
    parsed = parse_sms(question, str(value), "en")
    assert parsed.ok == (low <= value <= low + span)
    if parsed.ok:
        assert parsed.value == value
