"""gunicorn's own log lines without what a request carried.

gunicorn writes its error log itself, outside the gateway's handler: a malformed request
is logged as ``Invalid request from ip=...: Invalid HTTP request line: '<the line>'``, a
bad header with the header quoted, and an error before the app answers as ``Error
handling request GET <path and query>``. A request line can hold a signed link's token,
query values or a phone number, so :class:`GatewayLogger` (``logger_class`` in
``config/gunicorn.conf.py``) masks every line of ``gunicorn.error`` before it is written:
quoted request text is withheld, query strings are dropped, and tokens, numbers and
addresses are masked as the gateway's own logs mask them (:func:`config.logging.redact`).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from gunicorn.glogging import Logger

from config.logging import redact

#: What gunicorn quotes from a request (its line, a header, a method, a version).
_QUOTED = re.compile(r"'[^']*'?|\"[^\"]*\"?")
WITHHELD: Final = "[request text withheld]"
#: A query string: everything from ``?`` to the next space.
_QUERY = re.compile(r"\?\S*")
QUERY_MASK: Final = "?[query]"


def mask_request_text(text: str) -> str:
    """``text`` with quoted request text withheld, query strings dropped and tokens,
    numbers and addresses masked."""
    return redact(_QUERY.sub(QUERY_MASK, _QUOTED.sub(WITHHELD, text)))


class RequestTextFilter(logging.Filter):
    """Masks a record's message and traceback (:func:`mask_request_text`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = mask_request_text(message), None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = mask_request_text(formatter.formatException(record.exc_info))
            record.exc_info = None
        return True


class GatewayLogger(Logger):
    """gunicorn's logger, with :class:`RequestTextFilter` on its error log."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not any(isinstance(f, RequestTextFilter) for f in self.error_log.filters):
            self.error_log.addFilter(RequestTextFilter())
