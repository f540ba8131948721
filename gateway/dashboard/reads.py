"""A dashboard page's reads under the statement timeout: on PostgreSQL each statement of a
page gets at most ``READ_STATEMENT_TIMEOUT`` (:mod:`gateway.store.slow_reads`), so no page
holds a worker thread for minutes; one that runs out is the dashboard's 503 page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import abort, current_app
from sqlalchemy.orm import Session

from gateway.store import slow_reads
from gateway.store.db import db_of


@contextmanager
def reading() -> Iterator[Session]:
    """A session for a page's reads, cancelled past the configured limit (a 503 page)."""
    try:
        with slow_reads.reading(db_of(current_app)) as session:
            yield session
    except slow_reads.ReadTimedOut:
        abort(
            503,
            "The figures for this page took too long to compute. Narrow the dates or the "
            "filters, then try again.",
        )
