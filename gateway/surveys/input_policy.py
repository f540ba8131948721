"""What text the gateway takes in: one policy for every entry point.

Text that no store can keep or no person meant is refused where it enters (API bodies
and query strings, batches, dashboard and web forms, Twilio webhook fields): NUL and the
other C0 control characters but tab and newlines, lone surrogates, absurd lengths,
numbers and dates out of any sensible range, and JSON nested deeper than a few levels.
A respondent's own reply is never refused: :func:`clean_reply` strips what cannot be
kept and keeps the rest.

The module knows no web framework: each boundary turns :class:`InputRefused` into its own
answer (a JSON 422 naming the field for the API, an error page for the dashboard).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

#: The longest text value any entry point takes (a comment, a long free-text answer).
MAX_TEXT = 10_000
#: The longest query-string value (ids, filters, cursors); a webhook URL is shorter still.
MAX_QUERY_VALUE = 1_000
#: The longest id from a provider the store keeps (a Twilio sid is 34 characters).
MAX_PROVIDER_ID = 64
#: The longest provider error code the store keeps (Twilio's are five digits).
MAX_ERROR_CODE = 32
#: The longest URL a webhook subscription may name.
MAX_URL = 2_000
#: How deep a JSON body may nest (a trigger's context is two levels deep).
MAX_DEPTH = 8
#: The largest whole number a query or form takes (a page, a version, an id to page from).
MAX_NUMBER = 2**31 - 1
#: Dates outside these years are no one's survey: refused before any arithmetic on them.
MIN_YEAR = 1970
MAX_YEAR = 2200

# C0 controls but tab, newline and carriage return; DEL; lone surrogates.
_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class InputRefused(ValueError):
    """A value refused by the policy: the field to blame and why, in words for a caller."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_text(value: str, field: str, max_length: int = MAX_TEXT) -> str:
    """``value`` unchanged, or :class:`InputRefused` naming ``field``."""
    found = _UNWANTED.search(value)
    if found is not None:
        kind = "a lone surrogate" if "\ud800" <= found.group() <= "\udfff" else "a control"
        raise InputRefused(field, f"{field} contains {kind} character (U+{ord(found.group()):04X})")
    if len(value) > max_length:
        raise InputRefused(field, f"{field} is longer than {max_length} characters")
    return value


def clean_reply(text: str, max_length: int = MAX_TEXT) -> str:
    """A respondent's reply as it can be kept: unwanted characters removed, length capped."""
    return _UNWANTED.sub("", text)[:max_length]


def webhook_field(value: str) -> str:
    """A provider's webhook field (a number, an id) as the gateway reads it: cleaned as a
    reply is, capped at :data:`MAX_QUERY_VALUE`, trimmed. What routes a webhook and what
    picks the token its signature is checked with both read it so."""
    return clean_reply(value, MAX_QUERY_VALUE).strip()


def provider_id(value: str, field: str, max_length: int = MAX_PROVIDER_ID) -> str:
    """An id from a provider's webhook (a sid, an error code), cleaned as a reply is;
    :class:`InputRefused` when it is longer than any id the store keeps, so no such value
    is ever looked up or written."""
    cleaned = webhook_field(value)
    if len(cleaned) > max_length:
        raise InputRefused(field, f"{field} is longer than {max_length} characters")
    return cleaned


def check_json(value: Any, field: str = "body", max_depth: int = MAX_DEPTH) -> Any:
    """``value`` (a parsed JSON document) unchanged, or :class:`InputRefused`.

    Every key and string is checked with :func:`check_text`; the field named is the dotted
    path of the first bad value (``context.office``, ``surveys.3.to``). Walked without
    recursion, so no document can exhaust the stack.
    """
    pending: list[tuple[Any, str, int]] = [(value, "", 0)]
    while pending:
        item, path, depth = pending.pop()
        if depth > max_depth:
            raise InputRefused(path or field, f"{path or field} nests deeper than {max_depth}")
        if isinstance(item, str):
            check_text(item, path or field)
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{path}.{key}" if path else str(key)
                check_text(str(key), field if not path else path, MAX_QUERY_VALUE)
                pending.append((child, name, depth + 1))
        elif isinstance(item, list):
            for index, child in enumerate(item):
                pending.append((child, f"{path}.{index}" if path else str(index), depth + 1))
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > 2**53:
            raise InputRefused(path or field, f"{path or field} is out of range")
    return value


def read_json(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """A JSON document parsed and checked by :func:`check_json`.

    Raises :class:`ValueError` when it does not parse and :class:`InputRefused` when it
    parses to what the policy refuses; a document too deep for the parser is refused too.
    """
    try:
        value = json.loads(data)
    except RecursionError as exc:
        raise InputRefused("body", f"body nests deeper than {max_depth}") from exc
    return check_json(value, "body", max_depth)


def check_fields(values: Iterable[tuple[str, str]], max_length: int = MAX_QUERY_VALUE) -> None:
    """Check every (name, value) of a query string or form; :class:`InputRefused` on the first."""
    for name, value in values:
        check_text(name, "query" if not name else name[:64], max_length)
        check_text(value, name[:64], max_length)


def whole_number(raw: str, field: str, low: int = 0, high: int = MAX_NUMBER) -> int:
    """``raw`` as a whole number from ``low`` to ``high``, or :class:`InputRefused`."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(high)):
        raise InputRefused(field, f"{field} must be a whole number from {low} to {high}")
    number = int(raw)
    if not low <= number <= high:
        raise InputRefused(field, f"{field} must be a whole number from {low} to {high}")
    return number


def check_datetime(value: datetime, field: str) -> datetime:
    """``value`` in UTC when it lies in a sensible range of years, else :class:`InputRefused`.

    An offset at the edge of the calendar (``0001-01-01T00:00:00+14:00``) cannot even be
    converted to UTC, so the year is checked first.
    """
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InputRefused(field, f"{field} must lie between {MIN_YEAR} and {MAX_YEAR}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def check_date(value: date, field: str) -> date:
    """``value`` when its year lies in a sensible range, else :class:`InputRefused`."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InputRefused(field, f"{field} must lie between {MIN_YEAR} and {MAX_YEAR}")
    return value
