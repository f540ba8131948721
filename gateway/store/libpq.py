"""A cursor straight on libpq for the webhooks' few known statements.

psycopg's cursor adapts every parameter and every value through its type system, and runs
each query through a generator-driven wait loop; for the quick paths' statements
(:mod:`gateway.store.driver`) that cost more CPU than the statements themselves. This
cursor does what they need of one, on the same pooled connection, through psycopg's own
libpq wrapper (``psycopg.pq``):

- ``execute(query, params)``: the query's ``%(name)s`` placeholders become ``$1, $2...``;
  the statement is prepared once per connection (again if the session lost it), under a
  name per text and parameter types; it runs with each parameter sent as text (``str``,
  ``int``, ``bool``, an aware ``datetime`` or None), in one blocking libpq call that
  releases the GIL.
- ``fetchone()``: the first row, each value decoded by its column's type (integers,
  booleans, text, JSON, timestamps with time zone; any other type stays text).

No ``BEGIN`` is sent, so on a connection with no transaction open each statement commits
by itself. Errors are raised as psycopg raises them (``psycopg.errors``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

import psycopg
from psycopg import errors
from psycopg.pq import ExecStatus

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")

#: Parameter types by Python type (0: unknown, left to the server to infer, as psycopg
#: sends text); ``bool`` before ``int``, of which it is a subclass.
_OIDS: tuple[tuple[type, int], ...] = (
    (str, 0),
    (bool, 16),
    (int, 20),
    (datetime, 1184),
)

_DECODERS: dict[int, Callable[[bytes], Any]] = {
    16: lambda value: value == b"t",
    20: int,
    21: int,
    23: int,
    114: json.loads,
    3802: json.loads,
    1184: lambda value: datetime.fromisoformat(value.decode()),
}

#: The statements prepared on each connection, by name (a connection is used by one
#: thread at a time; the map is shared by all).
_PREPARED: WeakKeyDictionary[psycopg.Connection[Any], set[bytes]] = WeakKeyDictionary()
_PREPARED_LOCK = threading.Lock()


@functools.cache
def _converted(query: str) -> tuple[bytes, tuple[str, ...]]:
    """``query`` with numbered placeholders, and the parameter name of each number."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PLACEHOLDER.sub(number, query).encode(), tuple(names)


def _oid(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise TypeError(f"naive datetime {value!r}: the store keeps timezone-aware times")
    for kind, oid in _OIDS:
        if isinstance(value, kind):
            return oid
    raise TypeError(f"no text form for a parameter of type {type(value).__name__}")


def _text(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, datetime):
        return value.isoformat().encode()
    return str(value).encode()


@functools.cache
def _name(sql: bytes, types: tuple[int, ...]) -> bytes:
    """The statement's name: a digest of its text and parameter types, so that no two
    statements share a name, whichever threads name them first."""
    digest = hashlib.sha256(sql + b"\0" + ",".join(map(str, types)).encode()).hexdigest()
    return f"gateway_{digest[:32]}".encode()


def _prepared_on(connection: psycopg.Connection[Any]) -> set[bytes]:
    prepared = _PREPARED.get(connection)
    if prepared is None:
        with _PREPARED_LOCK:
            prepared = _PREPARED.setdefault(connection, set())
    return prepared


def _decoded(value: bytes | None, oid: int) -> Any:
    if value is None:
        return None
    decode = _DECODERS.get(oid)
    return decode(value) if decode is not None else value.decode()


class LibpqCursor:
    """``execute`` and ``fetchone`` on ``connection``'s libpq connection; see the module."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection
        self._row: tuple[Any, ...] | None = None

    def execute(self, query: str, params: Mapping[str, Any]) -> None:
        sql, names = _converted(query)
        values = [params[name] for name in names]
        types = tuple(_oid(value) for value in values)
        name = _name(sql, types)
        texts: Any = [_text(value) for value in values]  # None is SQL NULL, as psycopg sends it
        prepared = _prepared_on(self._connection)
        try:
            result = self._run(prepared, name, sql, types, texts)
        except errors.InvalidSqlStatementName:
            # Gone from the session: DEALLOCATE ALL (psycopg sends it on a rollback when it
            # had statements of its own prepared) or DISCARD ALL. Nothing ran; prepare again.
            prepared.clear()
            result = self._run(prepared, name, sql, types, texts)
        self._row = None
        if result.ntuples:
            self._row = tuple(
                _decoded(result.get_value(0, column), result.ftype(column))
                for column in range(result.nfields)
            )

    def _run(
        self, prepared: set[bytes], name: bytes, sql: bytes, types: tuple[int, ...], texts: Any
    ) -> Any:
        pgconn = self._connection.pgconn
        if name not in prepared:
            try:
                self._check(pgconn.prepare(name, sql, types))
            except errors.DuplicatePreparedStatement:
                pass  # the session has it already: the same text and types, by its name
            prepared.add(name)
        return self._check(pgconn.exec_prepared(name, texts))

    def fetchone(self) -> tuple[Any, ...] | None:
        row, self._row = self._row, None
        return row

    def _check(self, result: Any) -> Any:
        if result.status not in (ExecStatus.COMMAND_OK, ExecStatus.TUPLES_OK):
            raise errors.error_from_result(result, encoding=self._connection.info.encoding)
        return result
