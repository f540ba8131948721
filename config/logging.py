"""Logging: one JSON object a line in production, readable text in development.

Every record carries the request id of the request it was written under (see
:mod:`gateway.http.request_log`). Phone numbers, email addresses and signed-link tokens that
reach a log message anyway (a provider's error text quoting the number, Flask's line naming
a failed page's path) are masked by
:class:`RedactingFilter` before anything is written; message bodies and answers are never
passed to a logger in the first place.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final

#: The id of the request being served on this thread (``-`` outside a request).
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

#: Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_STANDARD_ATTRS: Final = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}

# An E.164 number or a North American number written with separators, and email addresses.
_PHONE = re.compile(r"(?<![\w/])\+?\d[\d\s().-]{8,}\d(?!\w)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REDACTED: Final = "[redacted]"
# The token of a signed survey, answer, unsubscribe or reply link (``/s/``, ``/a/``,
# ``/u/``, ``/r/``): whoever holds it can open the survey or write to its case, so a path
# that carries one is masked too.
_SIGNED_PATH = re.compile(r"(/[saur]/)[A-Za-z0-9_.-]{16,}")
TOKEN_MASK: Final = "[token]"

# PostgreSQL's error details quote the row's values (``DETAIL:  Key (contact_hash)=(...)
# already exists``, ``CONTEXT:  JSON data, line 1: ...``): a constraint name says enough.
_PG_DETAIL = re.compile(r"(?m)^([ \t]*(?:DETAIL|CONTEXT)):.*$")
_PG_KEY = re.compile(r"(Key \([^)]*\))=\(.*?\)(?= |$|\n)", re.DOTALL)
WITHHELD: Final = "[withheld]"

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
_HANDLER_MARK: Final = "_gateway_handler"


def redact(text: str) -> str:
    """``text`` with phone numbers, email addresses, signed-link tokens and the values
    PostgreSQL's error details quote masked."""
    masked = _PG_KEY.sub(rf"\g<1>=({WITHHELD})", _PG_DETAIL.sub(rf"\g<1>: {WITHHELD}", text))
    masked = _SIGNED_PATH.sub(rf"\g<1>{TOKEN_MASK}", masked)
    return _EMAIL.sub(REDACTED, _PHONE.sub(REDACTED, masked))


_TRACEBACKS = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Masks contact details in the message and its traceback, and stamps the current
    request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        # Formatters write ``exc_text`` when it is set: the traceback, masked here (another
        # handler may have formatted it first, unmasked).
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = record.exc_text or redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each record (as Python's own
    last-resort handler does), so that a replaced stderr is honoured."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(log_format: str = "json", level: str = "INFO") -> None:
    """Send the root logger's records to stderr as JSON (``json``) or text (``text``).

    Idempotent: a second call replaces the handler the first one installed, and handlers
    installed by others (pytest's, gunicorn's) are left alone.
    """
    if log_format not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be json or text, not {log_format!r}")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = StderrHandler()
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root.addHandler(handler)
    root.setLevel(level.upper())
