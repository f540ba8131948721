# ruff: noqa: E501 (tables of exact messages read best one to a line)
"""The `when` language: parsing, evaluating, and the syntax errors it reports."""

from __future__ import annotations

import pytest

from gateway.flows.answers import AnswerValue
from gateway.flows.when import Comparison, WhenSyntaxError, parse_when

EVALUATIONS: list[tuple[str, dict[str, AnswerValue], bool]] = [
    ("satisfied <= 2", {"satisfied": 2}, True),
    ("satisfied <= 2", {"satisfied": 3}, False),
    ("satisfied < 2", {"satisfied": 1}, True),
    ("satisfied > 4", {"satisfied": 5}, True),
    ("satisfied >= 4", {"satisfied": 3}, False),
    ("satisfied == 3", {"satisfied": 3}, True),
    ("satisfied != 3", {"satisfied": 4}, True),
    ("min > -5", {"min": -1}, True),
    ("helped == 'yes'", {"helped": "yes"}, True),
    ('helped == "no"', {"helped": "yes"}, False),
    ("topic in ['wait', 'staff']", {"topic": "staff"}, True),
    ("topic in ['wait', 'staff']", {"topic": "hours"}, False),
    ("problems contains 'wait'", {"problems": ["staff", "wait"]}, True),
    ("problems contains 'wait'", {"problems": ["staff"]}, False),
    ("a == 1 and b == 2", {"a": 1, "b": 2}, True),
    ("a == 1 and b == 2", {"a": 1, "b": 3}, False),
    ("a == 1 or b == 2", {"a": 0, "b": 2}, True),
    ("not a == 1", {"a": 2}, True),
    ("not (a == 1 or b == 2)", {"a": 1}, False),
    ("a == 1 or b == 2 and c == 3", {"a": 1, "b": 0}, True),  # and binds tighter
    ("(a == 1 or b == 2) and c == 3", {"a": 1, "c": 0}, False),
    ("a == 'it\\'s'", {"a": "it's"}, True),
]

UNANSWERED: list[tuple[str, bool]] = [
    ("waited > 10", False),
    ("waited != 10", False),
    ("waited == null", True),
    ("waited != null", False),
    ("not waited > 10", True),
    ("waited in [1, 2]", False),
    ("problems contains 'wait'", False),
]

SYNTAX_ERRORS: list[tuple[str, str, int]] = [
    ("", "the condition is empty", 0),
    (
        "satisfied",
        "expected an operator (== != < <= > >= in contains) after 'satisfied' but found end of the condition",
        9,
    ),
    ("satisfied = 1", "unexpected '='; compare with '=='", 10),
    (
        "helped == yes",
        "expected a value (integer, quoted string, list or null) but found 'yes'; quote text: 'yes'",
        10,
    ),
    ("a in 3", "'in' needs a list such as [1, 2] but found '3'", 5),
    ("(a == 1", "expected ')' but found end of the condition", 7),
    ("a == 1 b == 2", "unexpected 'b'; expected 'and', 'or' or the end", 7),
    ("a == 'open", "string starting here has no closing '", 5),
    ("1 == a", "expected a question id but found '1'", 0),
    ("a == [1, 2", "expected ',' or ']' in the list but found end of the condition", 10),
    ("a == 12ab", "unexpected character 'a'", 7),
    ("a == 1 && b == 2", "unexpected character '&'", 7),
    ("and == 1", "expected a question id but found 'and'", 0),
]


@pytest.mark.parametrize(("source", "answers", "expected"), EVALUATIONS)
def test_a_condition_evaluates_as_written(
    source: str, answers: dict[str, AnswerValue], expected: bool
) -> None:
    assert parse_when(source).evaluate(answers) is expected


@pytest.mark.parametrize(("source", "expected"), UNANSWERED)
def test_an_unanswered_question_fails_every_comparison_but_null_tests(
    source: str, expected: bool
) -> None:
    assert parse_when(source).evaluate({"waited": None}) is expected


@pytest.mark.parametrize(("source", "message", "offset"), SYNTAX_ERRORS)
def test_a_malformed_condition_names_the_problem_and_its_offset(
    source: str, message: str, offset: int
) -> None:
    with pytest.raises(WhenSyntaxError) as caught:
        parse_when(source)
    assert (caught.value.message, caught.value.offset) == (message, offset)


def test_a_string_never_equals_an_integer() -> None:
    assert not parse_when("a == '1'").evaluate({"a": 1})


def test_ordering_a_text_answer_is_false_rather_than_an_error() -> None:
    assert not parse_when("a < 3").evaluate({"a": "two"})


def test_names_lists_every_question_named() -> None:
    assert parse_when("a == 1 or (not b in [1] and c contains 'x')").names() == {"a", "b", "c"}


def test_comparisons_expose_operator_literal_and_offsets() -> None:
    comparisons = list(parse_when("x == 1 and y in ['a', null]").comparisons())
    assert comparisons == [
        Comparison("x", "==", 1, 0, 5),
        Comparison("y", "in", ("a", None), 11, 16),
    ]
