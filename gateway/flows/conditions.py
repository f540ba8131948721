"""Type-checking a parsed `when` against the questions it names.

A comparison must fit the question's answers (contract section 1, "Answer values"):
rating and number compare with integers, yesno with "yes" or "no", choice with one of its
option values (``contains`` for a multiple choice), text with strings. A literal outside a
rating's scale or a number's bounds can never match: that is a warning, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.flows.errors import Severity
from gateway.flows.model import Question
from gateway.flows.when import ORDERING, Comparison, LiteralValue


@dataclass(frozen=True)
class Problem:
    severity: Severity
    message: str
    offset: int  # into the `when` source


def check_comparison(comparison: Comparison, question: Question) -> list[Problem]:
    """What is wrong with comparing ``question``'s answer as ``comparison`` does."""
    c, q = comparison, question
    kind = "multiple choice" if q.type == "choice" and q.multiple else q.type
    at_op, at_value = c.offset, c.value_offset

    def error(message: str, offset: int = at_value) -> list[Problem]:
        return [Problem("error", message, offset)]

    if c.op == "contains" and kind != "multiple choice":
        return error(
            f"'contains' needs a multiple choice question; '{q.id}' is a {kind} question", at_op
        )
    if c.value is None:
        if c.op in ("==", "!="):
            return []
        return error(
            f"a comparison with null is always false; use '{q.id} == null' or '{q.id} != null'"
        )
    if c.op in ORDERING and q.type not in ("rating", "number"):
        return error(
            f"'{c.op}' needs a rating or number question; '{q.id}' is a {kind} question", at_op
        )
    if kind == "multiple choice" and c.op != "contains":
        return error(
            f"'{q.id}' is a multiple choice question: test it with '{q.id} contains ...'", at_op
        )
    values = c.value if c.op == "in" and isinstance(c.value, tuple) else (c.value,)
    problems: list[Problem] = []
    for value in values:
        problems.extend(_check_literal(q, kind, value, at_value))
    return problems


def _check_literal(q: Question, kind: str, value: LiteralValue, offset: int) -> list[Problem]:
    shown = _show(value)
    if value is None:
        return [
            Problem("error", f"lists hold values, not null; test '{q.id} == null' instead", offset)
        ]
    if q.type in ("rating", "number"):
        if not isinstance(value, int):
            return [
                Problem(
                    "error",
                    f"'{q.id}' is a {kind} question: compare it with an integer, not {shown}",
                    offset,
                )
            ]
        low, high = q.scale if q.type == "rating" else (q.min, q.max)
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = (
                f"scale {low} to {high}"
                if q.type == "rating"
                else f"range {_bound(low)} to {_bound(high)}"
            )
            return [
                Problem(
                    "warning",
                    f"{value} is outside the {bounds} of '{q.id}', so it never matches",
                    offset,
                )
            ]
        return []
    if q.type == "yesno":
        if value not in ("yes", "no"):
            return [
                Problem(
                    "error",
                    f'\'{q.id}\' is a yesno question: compare it with "yes" or "no", not {shown}',
                    offset,
                )
            ]
        return []
    if q.type == "choice":
        values = [o.value for o in q.options]
        if value not in values:
            valid = ", ".join(f'"{v}"' for v in values)
            return [
                Problem("error", f"'{q.id}' has no option {shown}; its options are {valid}", offset)
            ]
        return []
    if not isinstance(value, str):
        return [
            Problem(
                "error",
                f"'{q.id}' is a text question: compare it with a quoted string, not {shown}",
                offset,
            )
        ]
    return []


def _show(value: LiteralValue) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "a list"
    return "null" if value is None else str(value)


def _bound(value: int | None) -> str:
    return "any" if value is None else str(value)
