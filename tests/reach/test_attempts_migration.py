"""Migration n02_reach_attempts: the contact_attempts table comes and goes, on SQLite and
PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from gateway.store.db import alembic_config, upgrade


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
