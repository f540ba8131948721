"""Migration n02_reach_attempts: the contact_attempts table comes and goes, on SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from gateway.store.db import alembic_config, upgrade
from tests.conftest import POSTGRES_ADMIN_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    name = f"gw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_attempts_table_is_created_and_dropped(empty_url: str) -> None:
    upgrade(empty_url, "n02_reach_attempts")
    assert "contact_attempts" in tables(empty_url)
    engine = sa.create_engine(empty_url)
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("contact_attempts")}
    engine.dispose()
    assert "ix_contact_attempts_outcome_due_at" in indexes
    command.downgrade(alembic_config(empty_url), "n01_reach")
    assert "contact_attempts" not in tables(empty_url)
    upgrade(empty_url)
    assert "contact_attempts" in tables(empty_url)
