"""Agency-defined identifier patterns (claim numbers, case numbers), compiled safely.

An agency writes a regular expression for its own identifiers. Python's ``re`` backtracks,
so a pattern like ``(\\d+)+x`` can take exponential time on a comment an attacker writes.
Before a pattern is used it must be short, free of the constructs that backtrack without
bound (a repetition inside an unbounded repetition, an alternation inside one, a
backreference), and must answer quickly on adversarial text at load time.
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
import time
from dataclasses import dataclass
from typing import Any

#: A pattern longer than this is refused.
MAX_PATTERN_LENGTH = 200
#: Text the pattern is timed on at load: long runs of what identifiers are made of.
_PROBES = (
    "1" * 2000 + "!",
    "a" * 2000 + "!",
    "A1-" * 700 + "!",
    "a " * 1000 + "!",
    ("x" * 50 + " ") * 40,
)
#: The probes together may take this long, in seconds, before the pattern is refused.
MAX_PROBE_SECONDS = 0.05
#: Identifier names become masks like ``[CLAIM]``.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT}


class UnsafePattern(ValueError):
    """The pattern cannot be used; the message says why, for the file's error line."""


@dataclass(frozen=True, slots=True)
class IdentifierPattern:
    """One kind of agency identifier and the compiled pattern that finds it."""

    name: str
    regex: re.Pattern[str]


def compile_identifier(name: str, pattern: str) -> IdentifierPattern:
    """``pattern`` compiled for identifier ``name``, or :class:`UnsafePattern`."""
    if not NAME_PATTERN.match(name):
        raise UnsafePattern(
            f"identifier name {name!r} must be lower-case letters, digits and _ (at most 32)"
        )
    if not pattern:
        raise UnsafePattern("the pattern is empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(
            f"the pattern is {len(pattern)} characters long; at most {MAX_PATTERN_LENGTH}"
        )
    try:
        parsed = sre_parse.parse(pattern)
        regex = re.compile(pattern)
    except re.error as exc:
        raise UnsafePattern(f"not a valid regular expression: {exc}") from None
    _check_tree(list(parsed), inside_unbounded=False)
    if regex.match(""):
        raise UnsafePattern("the pattern matches empty text; it must match an identifier")
    started = time.perf_counter()
    for probe in _PROBES:
        regex.search(probe)
        if time.perf_counter() - started > MAX_PROBE_SECONDS:
            raise UnsafePattern("the pattern is too slow on long text; simplify it")
    return IdentifierPattern(name, regex)


def _check_tree(items: list[tuple[Any, Any]], inside_unbounded: bool) -> None:
    for op, arg in items:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            raise UnsafePattern("backreferences are not allowed in identifier patterns")
        if op in _REPEATS:
            low, high, sub = arg
            unbounded = high == sre_constants.MAXREPEAT or high > 50
            if inside_unbounded and (high > 1 or high == sre_constants.MAXREPEAT):
                raise UnsafePattern(
                    "a repetition inside a repetition (like (\\d+)+) can take exponential "
                    "time; write a single repetition such as \\d+"
                )
            _check_tree(list(sub), inside_unbounded or unbounded)
        elif op is sre_constants.BRANCH:
            if inside_unbounded:
                raise UnsafePattern(
                    "an alternation inside a repetition (like (a|b)+) can take exponential "
                    "time; use a character class such as [ab]+"
                )
            for branch in arg[1]:
                _check_tree(list(branch), inside_unbounded)
        elif op is sre_constants.SUBPATTERN:
            _check_tree(list(arg[-1]), inside_unbounded)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _check_tree(list(arg[1]), inside_unbounded)
        elif op is sre_constants.ATOMIC_GROUP:
            _check_tree(list(arg), inside_unbounded)
