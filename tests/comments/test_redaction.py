"""Personal data masked in English and Spanish comments, with where each piece was."""

from __future__ import annotations

import time

import pytest

from gateway.comments.redaction import Redactor
from gateway.flows.identifiers import UnsafePattern, compile_identifier

REDACTOR = Redactor([compile_identifier("claim", r"\bCL-?\d{8}\b")])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my ssn is 123-45-6789 thanks", "my ssn is [SSN] thanks"),
        ("SSN 123 45 6789", "SSN [SSN]"),
        ("social 123456789", "social [SSN]"),
        ("mi seguro social es 987.65.4321", "mi seguro social es [SSN]"),
        ("call me at (202) 555-0143", "call me at [PHONE]"),
        ("llámenme al 787 555 1234 porfa", "llámenme al [PHONE] porfa"),
        ("cell +1 713 555 0199 or 2025550177", "cell [PHONE] or [PHONE]"),
        ("email jsmith84@gmail.com please", "email [EMAIL] please"),
        ("mi correo es maria arroba hotmail punto com", "mi correo es [EMAIL]"),
        ("reach me at kwame at gmail dot com", "reach me at [EMAIL]"),
        ("I moved to 1412 Oak Ridge Dr Apt 3B", "I moved to [ADDRESS]"),
        ("vivo en Calle 5 de Mayo #312", "vivo en [ADDRESS]"),
        ("DOB 04/12/1961", "DOB [DOB]"),
        ("nací el 3 de marzo de 1958", "nací el [DOB]"),
        ("claim CL-20481234 is still open", "claim [CLAIM] is still open"),
    ],
)
def test_personal_data_is_masked_by_kind(text: str, expected: str) -> None:
    assert REDACTOR.redact(text).text == expected


def test_the_spans_point_at_the_original_text() -> None:
    text = "ssn 123-45-6789, phone 202-555-0143"
    redaction = REDACTOR.redact(text)
    assert [(s.kind, text[s.start : s.end]) for s in redaction.spans] == [
        ("ssn", "123-45-6789"),
        ("phone", "202-555-0143"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "I waited 2 hours and 30 minutes at window 4",
        "The fee was $45 for 2 cards in 2024",
        "Esperé 3 horas, llegué a las 7:45",
        "Great service, thank you!",
    ],
)
def test_comments_without_personal_data_are_left_alone(text: str) -> None:
    redaction = REDACTOR.redact(text)
    assert redaction.text == text and redaction.spans == ()


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"(\d+)+x", "repetition inside a repetition"),
        (r"(\w+\s?)*$", "repetition inside a repetition"),
        (r"(a)\1", "backreferences"),
        (r"x*", "matches empty text"),
        (r"[", "not a valid regular expression"),
        ("a" * 201, "at most 200"),
    ],
)
def test_an_unsafe_identifier_pattern_is_refused_saying_why(pattern: str, problem: str) -> None:
    with pytest.raises(UnsafePattern, match=problem):
        compile_identifier("claim", pattern)


def test_an_accepted_pattern_answers_quickly_on_hostile_text() -> None:
    identifier = compile_identifier("case", r"\b[A-Z]{2}-?\d{6,9}\b")
    redactor = Redactor([identifier])
    hostile = "A1-" * 5000 + "9" * 5000
    started = time.perf_counter()
    redactor.redact(hostile)
    assert time.perf_counter() - started < 1.0
