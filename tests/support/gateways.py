"""Gateways for tests that drive the gateway end to end: simulated delivery, jobs in-process,
on SQLite and PostgreSQL (tests/sms/support.py builds them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.store.db import db_of
from gateway.store.models import Survey
from tests.sms.support import Gateway, make_gateway


@pytest.fixture
def gateway(database_url: str) -> Iterator[Gateway]:
    """A gateway with simulated delivery, jobs in-process, on SQLite and PostgreSQL."""
    gw = make_gateway(database_url)
    yield gw
    db_of(gw.app).dispose()


@pytest.fixture
def pg_gateway(migrated_postgres_url: str) -> Iterator[Gateway]:
    """A gateway on the session's PostgreSQL database, emptied afterwards."""
    gw = make_gateway(migrated_postgres_url)
    yield gw
    engine = db_of(gw.app).engine
    tables = ", ".join(t.name for t in reversed(Survey.metadata.sorted_tables))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    db_of(gw.app).dispose()
