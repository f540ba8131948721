"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from config.settings import Settings
from gateway.app import create_app
from gateway.store.db import Database, alembic_config, db_of, normalize_url, upgrade
from gateway.store.models import Base


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    database = Database(database_url)
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    database.dispose()
    assert differences == []


def test_the_migrations_have_a_single_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_upgrading_twice_changes_nothing(database_url: str) -> None:
    upgrade(database_url)
    database = Database(database_url)
    tables = set(sa.inspect(database.engine).get_table_names())
    database.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def test_a_missing_instance_directory_is_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'instance' / 'nested' / 'gateway.sqlite3'}"
    upgrade(url)
    assert (tmp_path / "instance" / "nested" / "gateway.sqlite3").is_file()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/gw", "postgresql+psycopg://u:p@db:5432/gw"),
        ("postgresql://u:p@db/gw", "postgresql+psycopg://u:p@db/gw"),
        ("postgresql+psycopg://u@db/gw", "postgresql+psycopg://u@db/gw"),
        ("sqlite:///instance/gateway.sqlite3", "sqlite:///instance/gateway.sqlite3"),
    ],
)
def test_postgres_urls_are_pointed_at_psycopg_3(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'fk.sqlite3'}")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    database.dispose()


def test_the_app_migrates_its_sqlite_file_at_startup(settings: Settings) -> None:
    database = db_of(create_app(settings, {"TESTING": True}))
    tables = set(sa.inspect(database.engine).get_table_names())
    database.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
