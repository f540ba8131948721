"""Personal data found and masked in English and Spanish comments.

The detectors run most specific first: Social Security numbers, emails, dates of birth,
agency identifiers, phone numbers (Google's ``phonenumbers`` matcher, for US numbers in
any common writing), then street addresses. Every pattern is compiled once, when this
module loads; a comment with no digit and no ``@`` skips all but the address words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers

from gateway.comments.spans import Span, apply_masks, settle
from gateway.flows.identifiers import IdentifierPattern

# 123-45-6789, 123 45 6789, 123.45.6789, 123456789; not inside a longer run of digits.
_SSN = re.compile(r"(?<![\d-])\d{3}([- .]?)\d{2}\1\d{4}(?![\d]|-\d)")
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+\s?@\s?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"|\b[A-Za-z0-9._%+-]+\s*(?:\(at\)|\[at\]|\barroba\b|\s\bat\b\s(?=\s*[A-Za-z0-9-]+\s*(?:\(dot\)|\[dot\]|\bdot\b|\bpunto\b)))\s*[A-Za-z0-9-]+"
    r"\s*(?:\.|\(dot\)|\[dot\]|\bdot\b|\bpunto\b)\s*(?:com|net|org|gov|edu|mil|us)\b",
    re.IGNORECASE,
)
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|enero|febrero|marzo|"
    r"abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre"
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2}"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:de\s+)?(?:{_MONTHS})\.?,?\s+(?:de(?:l)?\s+)?\d{{4}})"
)
_DOB_CUE = (
    r"(?:d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?|"
    r"fecha\s+de\s+nacimiento|f\.?\s?nac\.?|nac[ií](?:do|da)?(?:\s+el)?|cumplea[nñ]os)"
)
_DOB = re.compile(
    rf"\b{_DOB_CUE}(?!\w)(?:[\s:,'-]+[a-z']{{1,8}}){{0,4}}?[\s:,-]*({_DATE})", re.IGNORECASE
)
_STREET_TYPES = (
    r"street|st|avenue|ave|av|road|rd|boulevard|blvd|drive|dr|lane|ln|court|ct|way|place|pl|"
    r"circle|cir|highway|hwy|parkway|pkwy|terrace|ter|trail|trl|loop|square|sq"
)
_UNIT = r"(?:,?\s*(?:apt|apartment|unit|suite|ste|#|depto|departamento|apto)\.?\s*#?\s*[\w-]{1,6})?"
_ADDRESS = re.compile(
    rf"\b\d{{1,6}}(?:\s+[NSEW]\.?)?(?:\s+[A-Za-z0-9][\w'.-]*){{1,4}}?\s+(?:{_STREET_TYPES})\b\.?(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b\.?)?{_UNIT}"
    r"|\b(?:calle|avenida|av\.|avda\.?|camino|carretera|paseo|bulevar|urbanizaci[oó]n|urb\.)"
    r"\s+(?:[\w'.-]+\s+){0,4}(?:#|n[uú]m(?:ero)?\.?|no\.)?\s*\d{1,6}\b"
    rf"{_UNIT}"
    r"|\b(?:p\.?\s?o\.?\s+box|apartado\s+postal)\s+\d{1,7}\b",
    re.IGNORECASE,
)
_HAS_DIGITS = re.compile(r"\d.*\d.*\d.*\d.*\d.*\d.*\d", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Redaction:
    """A comment with its personal data masked, and where each piece was."""

    text: str
    spans: tuple[Span, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(span.kind for span in self.spans)


class Redactor:
    """Finds and masks personal data; build once (per agency's identifiers) and reuse."""

    def __init__(self, identifiers: Sequence[IdentifierPattern] = ()) -> None:
        self.identifiers = tuple(identifiers)

    def find(self, text: str) -> tuple[Span, ...]:
        """Where ``text`` holds personal data, in order, not overlapping."""
        return settle(self._found(text))

    def redact(self, text: str) -> Redaction:
        spans = self.find(text)
        return Redaction(apply_masks(text, spans) if spans else text, spans)

    def _found(self, text: str) -> Iterable[Span]:
        digits = _HAS_DIGITS.search(text) is not None
        if digits:
            for match in _SSN.finditer(text):
                yield Span(match.start(), match.end(), "ssn")
        if "@" in text or "at" in text.lower() or "arroba" in text.lower():
            for match in _EMAIL.finditer(text):
                yield Span(match.start(), match.end(), "email")
        for match in _DOB.finditer(text):
            yield Span(match.start(1), match.end(1), "dob")
        for identifier in self.identifiers:
            for match in identifier.regex.finditer(text):
                if match.end() > match.start():
                    yield Span(match.start(), match.end(), identifier.name)
        if digits:
            for number in phonenumbers.PhoneNumberMatcher(
                text, "US", leniency=phonenumbers.Leniency.POSSIBLE
            ):
                yield Span(number.start, number.end, "phone")
        for match in _ADDRESS.finditer(text):
            yield Span(match.start(), match.end(), "address")
