"""Streamed exports that fail in the open.

:func:`started` makes a stream's first piece before the response is returned: the
export's query runs then, so a failure it meets is answered by the view's own error
handlers (a JSON error for the API) instead of a bare server page after a 200. A failure
after the first byte is re-raised, so the server aborts the chunked response without its
closing chunk and the client can tell the export is incomplete (docs/api.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

log = logging.getLogger(__name__)


def started(chunks: Iterator[str]) -> Iterator[str]:
    """``chunks`` with its first piece made now; an error making it is raised here."""
    first = next(chunks, None)
    return _rest(first, chunks)


def _rest(first: str | None, chunks: Iterator[str]) -> Iterator[str]:
    if first is None:
        return
    yield first
    try:
        yield from chunks
    except Exception:
        log.exception("streamed export failed after its first byte; the response is aborted")
        raise
