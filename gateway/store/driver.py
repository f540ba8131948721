"""Statements run straight on the PostgreSQL driver, for the webhooks' common cases.

SQLAlchemy's execution machinery costs more CPU than a prepared statement itself, so the
quick SMS reply (:mod:`gateway.sms_quick_reply`) and the quick voice step
(:mod:`gateway.call_quick_step`) run theirs on the pooled psycopg connection, each
statement committed by itself (autocommit). Driver errors come out as SQLAlchemy raises
them, so a lost database is answered 503 like anywhere else, and without the values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

import psycopg
import sqlalchemy as sa
from psycopg.pq import TransactionStatus
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gateway.flow_versions import flow_for_version_id
from gateway.flows.model import Flow

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


def on_driver(engine: Engine, work: Callable[[Any], _T]) -> _T:
    """``work(cursor)`` on a pooled connection in autocommit, straight on the driver."""
    pooled = engine.raw_connection()
    try:
        connection = cast(psycopg.Connection[Any], pooled.driver_connection)
        if connection.info.transaction_status != TransactionStatus.IDLE:
            connection.rollback()  # never run inside a transaction another user left open
        connection.autocommit = True  # each statement commits by itself
        try:
            with connection.cursor() as cursor:
                return work(cursor)
        finally:
            connection.autocommit = False
    except psycopg.Error as exc:
        if isinstance(exc, psycopg.OperationalError):
            pooled.invalidate(exc)
        raise sa.exc.DBAPIError.instance(
            None, None, exc, psycopg.Error, hide_parameters=True, dialect=engine.dialect
        ) from exc
    finally:
        pooled.close()
