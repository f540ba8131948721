"""Reads that cannot hold a worker for minutes: a statement timeout on PostgreSQL.

A dashboard page, a report or an export reads many rows; a period or filter that makes
one statement run for minutes would hold a worker thread and a pooled connection all that
time. :func:`reading` gives such a request a session whose every statement PostgreSQL
cancels after the database's ``read_timeout`` (``READ_STATEMENT_TIMEOUT``); a cancelled
statement rolls the session back, returns its connection to the pool and is raised as
:class:`ReadTimedOut`, which each layer answers in its own way. SQLite runs in the
process and has no statement timeout: there it is a plain session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from gateway.store.db import Database

#: PostgreSQL's SQLSTATE for a statement cancelled by its timeout (``query_canceled``).
QUERY_CANCELED: Final = "57014"


class ReadTimedOut(Exception):
    """A statement of a read ran longer than the configured limit and was cancelled."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"a statement ran longer than {seconds:g} s and was cancelled")
        self.seconds = seconds


def timeout_ms(database: Database) -> int:
    """The statement timeout of ``database``'s reads in whole milliseconds (0: none)."""
    if database.is_sqlite or database.read_timeout <= 0:
        return 0
    return max(1, round(database.read_timeout * 1000))


@contextmanager
def reading(database: Database) -> Iterator[Session]:
    """A session whose statements are cancelled after ``database.read_timeout`` seconds."""
    limit = timeout_ms(database)
    try:
        with database.session() as session:
            if limit:  # SET takes no bound parameters; the value is a whole number of ours
                session.execute(sa.text(f"SET LOCAL statement_timeout = {limit}"))
            yield session
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != QUERY_CANCELED:
            raise
        raise ReadTimedOut(database.read_timeout) from None
