"""Statements run straight on the PostgreSQL driver, for the webhooks' common cases.

SQLAlchemy's execution machinery costs more CPU than a prepared statement itself, so the
webhooks' one-statement steps (:mod:`gateway.surveys.quick_steps`) run theirs on the pooled
psycopg connection, straight on libpq (:mod:`gateway.store.libpq`), each statement
committed by itself (:func:`on_driver`). Their parts that the general path runs through
SQLAlchemy too are built once as SQLAlchemy statements and turned into libpq's text
(:func:`libpq_text`). Driver errors come out as SQLAlchemy raises them, so a lost database
is answered 503 like anywhere else, and without the values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import psycopg
import sqlalchemy as sa
from psycopg.pq import TransactionStatus
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from gateway.store.libpq import LibpqCursor

_T = TypeVar("_T")

#: The dialect :func:`libpq_text` compiles for (the one the pooled connections speak).
_POSTGRESQL = postgresql.dialect()


def on_driver(engine: Engine, work: Callable[[LibpqCursor], _T]) -> _T:
    """``work(cursor)`` on a pooled connection, straight on libpq (:class:`LibpqCursor`):
    each statement commits by itself."""
    pooled = engine.raw_connection()
    try:
        connection = cast(psycopg.Connection[Any], pooled.driver_connection)
        if connection.info.transaction_status != TransactionStatus.IDLE:
            connection.rollback()  # never run inside a transaction another user left open
        return work(LibpqCursor(connection))
    except psycopg.Error as exc:
        if isinstance(exc, psycopg.OperationalError):
            pooled.invalidate(exc)
        raise sa.exc.DBAPIError.instance(
            None, None, exc, psycopg.Error, hide_parameters=True, dialect=engine.dialect
        ) from exc
    finally:
        pooled.close()


def libpq_text(statement: sa.ClauseElement) -> str:
    """``statement``'s PostgreSQL text for :meth:`LibpqCursor.execute`: its parameters
    without a value stay ``%(name)s``; the values it holds itself (a ``'sms'``, an IN list,
    a LIMIT) are written into the text, as a hand-written statement has them. Meant to be
    called once per statement (the compiler's work is far from free), not per request."""
    compiled = cast(SQLCompiler, statement.compile(dialect=_POSTGRESQL))
    text = compiled.string
    if "%%" in text:
        raise ValueError("a statement for libpq has no literal percent sign to unescape")
    for name, bind in compiled.binds.items():
        if bind.required or bind.callable is not None:
            continue
        literal = compiled.render_literal_value
        if bind.expanding:
            values = ", ".join(literal(value, bind.type) for value in bind.value or ())
            text = text.replace(f"__[POSTCOMPILE_{name}]", values)
        else:
            text = text.replace(f"%({name})s", literal(bind.value, bind.type))
    return text


def insert_rows(
    session: Session,
    table: sa.Table,
    rows: list[dict[str, Any]],
    cell: Callable[[str, Any], Any] = lambda _column, value: value,
) -> None:
    """Insert many rows of the same columns in the session's transaction: PostgreSQL's
    COPY (``cell(column, value)`` gives each value as COPY takes it: JSON as text, a
    sealed column sealed), one executemany elsewhere."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(sa.insert(table), rows)
        return
    columns = list(rows[0])
    raw = connection.connection.driver_connection
    assert raw is not None
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([cell(column, row[column]) for column in columns])
