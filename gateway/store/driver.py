"""Statements run straight on the PostgreSQL driver, for the webhooks' common cases.

SQLAlchemy's execution machinery costs more CPU than a prepared statement itself, so the
quick SMS reply (:mod:`gateway.sms.quick_reply`) and the quick voice step
(:mod:`gateway.voice.quick_step`) run theirs on the pooled psycopg connection, straight on
libpq (:mod:`gateway.store.libpq`), each statement committed by itself. Driver errors
come out as SQLAlchemy raises them, so a lost database is answered 503 like anywhere
else, and without the values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

import psycopg
import sqlalchemy as sa
from psycopg.pq import TransactionStatus
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gateway.engine.types import StepResult
from gateway.flows.model import Flow
from gateway.store.libpq import LibpqCursor
from gateway.surveys.first_answers import first_answer_change
from gateway.surveys.flow_versions import flow_for_version_id

_T = TypeVar("_T")

#: Flows by version id, per database (a version row never changes once written).
_FLOWS: WeakKeyDictionary[Engine, dict[int, Flow]] = WeakKeyDictionary()


def flow_of_version(engine: Engine, version_id: int) -> Flow:
    """The flow a survey runs, by its version id, read once per process and database."""
    flows = _FLOWS.setdefault(engine, {})
    flow = flows.get(version_id)
    if flow is None:
        with Session(engine) as session:
            flow = flows[version_id] = flow_for_version_id(session, version_id)
    return flow


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


#: The columns the quick paths' INSERTs into ``messages`` name, in this order.
MESSAGE_COLUMNS = (
    "survey_id, agency_id, direction, channel, from_addr, to_addr, contact_hash, body, "
    "provider_sid, step_key, status, attempts, created_at, updated_at"
)


def survey_update_cte(source: str, sets: tuple[str, ...]) -> str:
    """``changed_survey``: the survey's new state (``%(state)s``) and the columns ``sets``
    (each from ``%(set_<name>)s``), written only when the CTE ``source`` wrote a row."""
    extra = "".join(f", {name} = %(set_{name})s" for name in sets)
    return f"""changed_survey AS (
    UPDATE surveys SET state = CAST(%(state)s AS json), updated_at = %(now)s{extra}
    FROM {source} WHERE surveys.id = %(survey_id)s
    RETURNING surveys.id
)"""


def step_survey_sets(
    status: str, answered: bool, result: StepResult, now: datetime
) -> dict[str, Any]:
    """The survey columns a step changes besides its state (for :func:`survey_update_cte`),
    as the ORM paths set them: a survey ``status`` ``sent`` starts with its first answer, a
    completed one completes and closes, and the first-answer mark of a survey that was
    ``answered`` or not (:func:`gateway.surveys.first_answers.first_answer_change`)."""
    sets: dict[str, Any] = {}
    if result.answers and status == "sent":
        sets["status"] = "started"
        sets["started_at"] = now
    if result.state.status == "completed":
        sets["status"] = "completed"
        sets["completed_at"] = now
        sets["closed_at"] = now
    change = first_answer_change(answered, result)
    if change is not None:
        sets["first_answered_at"] = now if change else None
    return sets


def answers_upsert_cte(count: int, source: str, survey_created_at: str) -> str:
    """``saved_answers``: ``count`` answers (``%(q<i>)s``, ``%(raw<i>)s``,
    ``%(value<i>)s``, ``%(outcome<i>)s``) upserted once per question, for each row of
    ``source`` (a FROM list, with any WHERE); ``survey_created_at`` is its SQL value."""
    rows = "\n    UNION ALL ".join(
        f"SELECT %(survey_id)s, %(q{i})s, %(raw{i})s, CAST(%(value{i})s AS json), "
        f"%(outcome{i})s, {survey_created_at}, %(now)s, %(now)s FROM {source}"
        for i in range(count)
    )
    return f"""saved_answers AS (
    INSERT INTO answers (survey_id, question_id, raw, value, outcome, survey_created_at,
                         created_at, updated_at)
    {rows}
    ON CONFLICT (survey_id, question_id) DO UPDATE SET
        raw = excluded.raw, value = excluded.value, outcome = excluded.outcome,
        updated_at = excluded.updated_at
    RETURNING id
)"""


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
