"""The webhooks' cursor straight on libpq (gateway.store.libpq): parameters sent as text,
values decoded by column type, each statement prepared once per connection and committed
by itself, errors raised as psycopg raises them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from gateway.store.libpq import _PREPARED, LibpqCursor, _converted, _name

pytestmark = pytest.mark.postgres


@pytest.fixture
def connection(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection whose session time zone is not UTC, with an empty table ``notes``."""
    url = sa.make_url(postgres_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database
    ) as conn:
        conn.execute("SET TimeZone = 'America/New_York'")  # values must not depend on it
        conn.execute("DROP TABLE IF EXISTS notes")
        conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        conn.commit()
        yield conn
        conn.rollback()
        conn.execute("DROP TABLE notes")
        conn.commit()


def other_connection(postgres_url: str) -> psycopg.Connection[Any]:
    url = sa.make_url(postgres_url)
    return psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database)


def prepared(connection: psycopg.Connection[Any]) -> list[str]:
    rows = connection.execute("SELECT name FROM pg_prepared_statements ORDER BY name")
    names = [name for (name,) in rows.fetchall()]
    connection.rollback()
    return [name for name in names if name.startswith("gateway_")]


def test_placeholders_are_numbered_once_per_name() -> None:
    sql, names = _converted("SELECT %(a)s, %(b)s WHERE x = %(a)s")
    assert sql == b"SELECT $1, $2 WHERE x = $1"
    assert names == ("a", "b")


def test_values_come_back_as_python_values_whatever_the_session_time_zone(
    connection: psycopg.Connection[Any],
) -> None:
    cursor = LibpqCursor(connection)
    at = datetime(2026, 3, 8, 6, 59, 59, 123456, tzinfo=UTC)
    cursor.execute(
        "SELECT CAST(%(i)s AS int), CAST(%(big)s AS bigint), %(yes)s, %(no)s, "
        "CAST(%(text)s AS text), CAST(%(doc)s AS json), %(at)s, CAST(%(nothing)s AS text), "
        "%(at)s + interval '1 second'",
        {
            "i": 42,
            "big": 2**40,
            "yes": True,
            "no": False,
            "text": "Año 2026 – ✓",
            "doc": '{"state": [1, "two", null]}',
            "at": at,
            "nothing": None,
        },
    )
    row = cursor.fetchone()
    assert row == (
        42,
        2**40,
        True,
        False,
        "Año 2026 – ✓",
        {"state": [1, "two", None]},
        at,
        None,
        at + timedelta(seconds=1),
    )
    assert row is not None and row[6].utcoffset() == timedelta(hours=-5)  # the session's zone
    assert cursor.fetchone() is None


def test_a_time_in_another_zone_is_the_same_instant(connection: psycopg.Connection[Any]) -> None:
    cursor = LibpqCursor(connection)
    local = datetime(2026, 7, 4, 12, 0, tzinfo=timezone(timedelta(hours=-4)))
    cursor.execute("SELECT %(at)s = CAST('2026-07-04 16:00:00+00' AS timestamptz)", {"at": local})
    assert cursor.fetchone() == (True,)


def test_a_naive_time_is_refused_before_anything_is_sent(
    connection: psycopg.Connection[Any],
) -> None:
    with pytest.raises(TypeError, match="naive datetime"):
        LibpqCursor(connection).execute("SELECT %(at)s", {"at": datetime(2026, 1, 1)})
    assert prepared(connection) == []


def test_a_statement_is_prepared_once_per_connection_and_parameter_types(
    connection: psycopg.Connection[Any],
) -> None:
    cursor = LibpqCursor(connection)
    query = "SELECT %(n)s"
    for n in range(3):
        cursor.execute(query, {"n": n})
        assert cursor.fetchone() == (n,)
    assert len(prepared(connection)) == 1
    cursor.execute(query, {"n": "text now"})
    assert cursor.fetchone() == ("text now",)
    assert len(prepared(connection)) == 2


def test_each_statement_commits_by_itself(
    connection: psycopg.Connection[Any], postgres_url: str
) -> None:
    cursor = LibpqCursor(connection)
    cursor.execute("INSERT INTO notes VALUES (%(id)s, %(body)s)", {"id": 1, "body": "kept"})
    assert connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with other_connection(postgres_url) as other:
        assert other.execute("SELECT id, body FROM notes").fetchall() == [(1, "kept")]


def test_an_error_is_psycopgs_own_and_leaves_nothing_written(
    connection: psycopg.Connection[Any], postgres_url: str
) -> None:
    cursor = LibpqCursor(connection)
    cursor.execute("INSERT INTO notes VALUES (%(id)s, %(body)s)", {"id": 1, "body": "first"})
    with pytest.raises(psycopg.errors.UniqueViolation):
        cursor.execute(
            "WITH more AS (INSERT INTO notes VALUES (2, 'second')) "
            "INSERT INTO notes VALUES (%(id)s, %(body)s)",
            {"id": 1, "body": "again"},
        )
    assert connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with other_connection(postgres_url) as other:
        rows = other.execute("SELECT id, body FROM notes ORDER BY id").fetchall()
    assert rows == [(1, "first")]


def test_statements_are_named_by_text_and_parameter_types() -> None:
    assert _name(b"SELECT $1", (20,)) == _name(b"SELECT $1", (20,))
    names = {_name(b"SELECT $1", (20,)), _name(b"SELECT $1", (0,)), _name(b"SELECT $1 + 1", (20,))}
    assert len(names) == 3


def test_threads_preparing_different_statements_at_once_each_run_their_own(
    postgres_url: str,
) -> None:
    threads = 8
    ready = threading.Barrier(threads)

    def run(n: int) -> list[Any]:
        with other_connection(postgres_url) as conn:
            cursor = LibpqCursor(conn)
            ready.wait()
            rows = []
            for k in range(threads):
                # Each thread's k-th statement is a text of its own, new to every process map.
                cursor.execute(f"SELECT %(n)s * {n + 1} + {k} /* {n}-{k} */", {"n": n})
                rows.append(cursor.fetchone())
            return rows

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(run, range(threads)))
    assert results == [[(n * (n + 1) + k,) for k in range(threads)] for n in range(threads)]


def test_a_statement_the_session_lost_is_prepared_again(
    connection: psycopg.Connection[Any],
) -> None:
    cursor = LibpqCursor(connection)
    cursor.execute("SELECT %(n)s + 1", {"n": 1})
    assert cursor.fetchone() == (2,)
    # psycopg deallocates every prepared statement of the session when it rolls back
    # having prepared one of its own (the ORM's paths do, on the same pooled connection).
    connection.execute("SELECT 1", prepare=True)
    connection.rollback()
    assert prepared(connection) == []
    cursor.execute("SELECT %(n)s + 1", {"n": 41})
    assert cursor.fetchone() == (42,)
    assert len(prepared(connection)) == 1


def test_a_statement_the_session_has_already_is_used_as_it_is(
    connection: psycopg.Connection[Any],
) -> None:
    cursor = LibpqCursor(connection)
    cursor.execute("SELECT %(n)s * 2", {"n": 2})
    _PREPARED[connection].clear()  # this process forgot it; the session did not
    cursor.execute("SELECT %(n)s * 2", {"n": 21})
    assert cursor.fetchone() == (42,)
    assert len(prepared(connection)) == 1
