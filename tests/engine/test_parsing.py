"""Real-world replies, as people type and press them, for every parser."""

from __future__ import annotations

import pytest

from gateway.engine.parsing import parse_keypad, parse_sms, parse_web
from gateway.flows.model import Question
from tests.engine.flows import COMMENT, MINUTES, SATISFIED, WHAT_WENT_WRONG

YESNO = Question(id="trust", type="yesno", prompt={"en": "Do you trust us?"})
SINGLE = Question(
    id="reason", type="choice", prompt={"en": "Why?"}, options=WHAT_WENT_WRONG.options
)
OPTIONAL_RATING = Question(id="r", type="rating", prompt={"en": "Rate"}, optional=True)
NPS = Question(id="nps", type="rating", prompt={"en": "How likely?"}, scale=(0, 10))


@pytest.mark.parametrize(
    "reply",
    [
        "5",
        " 5 ",
        "5!",
        "5 stars",
        "five",
        "Five",
        "cinco",
        "⭐⭐⭐⭐⭐",
        "5/5",
        "I'd say 5",
        "5 estrellas",
    ],
)
def test_a_rating_reply_of_five_in_any_common_form_records_five(reply: str) -> None:
    assert parse_sms(SATISFIED, reply, "es").value == 5


@pytest.mark.parametrize(
    "reply", ["4 or 5", "45", "6", "0", "", "  ", "great", "no one helped", "4.5"]
)
def test_an_ambiguous_or_out_of_range_rating_is_refused(reply: str) -> None:
    assert parse_sms(SATISFIED, reply, "en").ok is False


@pytest.mark.parametrize(
    "reply", ["Yes", "y", "YES!", "sí", "si", "Sí.", "yeah", "yep", "👍", "👍🏽", "claro"]
)
def test_a_yes_in_english_or_spanish_records_yes(reply: str) -> None:
    assert parse_sms(YESNO, reply, "es").value == "yes"


@pytest.mark.parametrize("reply", ["no", "No.", "nope", "nah", "👎", "NO!"])
def test_a_no_records_no(reply: str) -> None:
    assert parse_sms(YESNO, reply, "en").value == "no"


@pytest.mark.parametrize("reply", ["yes no", "maybe", "no sé", "not sure", "1", "👍👎"])
def test_an_unclear_yes_or_no_is_refused(reply: str) -> None:
    assert parse_sms(YESNO, reply, "es").ok is False


@pytest.mark.parametrize("reply", ["SKIP", "skip", "Skip.", "omitir", "saltar", "pass"])
def test_a_skip_word_skips_an_optional_question(reply: str) -> None:
    parsed = parse_sms(OPTIONAL_RATING, reply, "es")
    assert (parsed.ok, parsed.skip, parsed.value) == (True, True, None)


def test_a_skip_word_on_a_required_question_is_not_an_answer() -> None:
    parsed = parse_sms(SATISFIED, "skip", "en")
    assert (parsed.ok, parsed.skip) == (False, True)


@pytest.mark.parametrize(
    ("reply", "values"),
    [
        ("1,3", ["wait", "other"]),
        ("1 3", ["wait", "other"]),
        ("1 and 3", ["wait", "other"]),
        ("1 y 3", ["wait", "other"]),
        ("1, 3 & 2", ["wait", "staff", "other"]),
        ("staff", ["staff"]),
        ("Waiting time and staff", ["wait", "staff"]),
        ("personal", ["staff"]),
        ("tiempo de espera y personal", ["wait", "staff"]),
        ("one and three", ["wait", "other"]),
    ],
)
def test_a_multiple_choice_reply_records_every_option_named(reply: str, values: list[str]) -> None:
    assert parse_sms(WHAT_WENT_WRONG, reply, "es").value == values


@pytest.mark.parametrize("reply", ["1 and 9", "13", "", "the bus", "1 or 3 maybe"])
def test_a_multiple_choice_reply_naming_an_unknown_option_is_refused(reply: str) -> None:
    assert parse_sms(WHAT_WENT_WRONG, reply, "en").ok is False


def test_a_word_found_in_only_one_label_picks_that_option() -> None:
    assert parse_sms(WHAT_WENT_WRONG, "time", "en").value == ["wait"]


def test_a_single_choice_with_two_options_is_refused() -> None:
    assert parse_sms(SINGLE, "1 and 2", "en").ok is False


def test_a_single_choice_by_number_records_the_option_value() -> None:
    assert parse_sms(SINGLE, "2", "en").value == "staff"


@pytest.mark.parametrize(
    ("reply", "value"),
    [("about 20 minutes", 20), ("20 min", 20), ("20", 20), ("unos 20 minutos", 20), ("ten", 10)],
)
def test_a_number_reply_records_the_number(reply: str, value: int) -> None:
    assert parse_sms(MINUTES, reply, "es").value == value


@pytest.mark.parametrize("reply", ["20 or 30", "2.5", "700", "a while", "-5"])
def test_an_unclear_or_out_of_range_number_is_refused(reply: str) -> None:
    assert parse_sms(MINUTES, reply, "en").ok is False


def test_a_text_reply_is_kept_as_typed_without_surrounding_space() -> None:
    assert parse_sms(COMMENT, "  The clerk was kind.  ", "en").value == "The clerk was kind."


def test_a_text_reply_over_the_maximum_length_is_refused() -> None:
    parsed = parse_sms(COMMENT, "x" * 51, "en")
    assert (parsed.ok, parsed.problem) == (False, "too_long")


@pytest.mark.parametrize(
    ("question", "digits", "value"),
    [
        (YESNO, "1", "yes"),
        (YESNO, "2", "no"),
        (SATISFIED, "4", 4),
        (SINGLE, "3", "other"),
        (WHAT_WENT_WRONG, "13", ["wait", "other"]),
        (WHAT_WENT_WRONG, "31", ["wait", "other"]),
        (MINUTES, "25", 25),
        (NPS, "10", 10),
        (NPS, "0", 0),
    ],
)
def test_keypad_digits_record_the_answer(question: Question, digits: str, value: object) -> None:
    assert parse_keypad(question, digits).value == value


@pytest.mark.parametrize(
    ("question", "digits"),
    [
        (YESNO, "3"),
        (YESNO, "12"),
        (SATISFIED, "6"),
        (SATISFIED, "45"),
        (SINGLE, "4"),
        (WHAT_WENT_WRONG, "11"),
        (WHAT_WENT_WRONG, "19"),
        (MINUTES, "601"),
        (SATISFIED, ""),
        (SATISFIED, "*"),
        (COMMENT, "5"),
    ],
)
def test_keypad_digits_out_of_range_or_empty_are_refused(question: Question, digits: str) -> None:
    assert parse_keypad(question, digits).ok is False


def test_star_alone_skips_an_optional_question_on_the_keypad() -> None:
    parsed = parse_keypad(MINUTES, "*")
    assert (parsed.ok, parsed.skip) == (True, True)


@pytest.mark.parametrize(
    ("question", "value", "expected"),
    [
        (SATISFIED, "3", 3),
        (YESNO, "no", "no"),
        (SINGLE, "staff", "staff"),
        (WHAT_WENT_WRONG, ["other", "wait"], ["wait", "other"]),
        (WHAT_WENT_WRONG, "staff", ["staff"]),
        (MINUTES, "0", 0),
        (COMMENT, " fine ", "fine"),
    ],
)
def test_web_values_record_the_answer(question: Question, value: object, expected: object) -> None:
    assert parse_web(question, value).value == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("question", "value"),
    [
        (SATISFIED, "five"),
        (SATISFIED, "9"),
        (YESNO, "Yes"),
        (SINGLE, "Staff"),
        (WHAT_WENT_WRONG, ["wait", "wait"]),
        (WHAT_WENT_WRONG, ["bogus"]),
        (MINUTES, "20 minutes"),
        (SATISFIED, None),
    ],
)
def test_web_values_not_exactly_valid_are_refused(question: Question, value: object) -> None:
    assert parse_web(question, value).ok is False  # type: ignore[arg-type]


def test_an_empty_web_value_skips_an_optional_question() -> None:
    assert parse_web(MINUTES, "").skip is True
