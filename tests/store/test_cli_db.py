"""`gateway db upgrade` migrates the configured database from any working directory."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway.cli import main
from gateway.store.db import Database


def test_db_upgrade_creates_every_table_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    url = f"sqlite:///{tmp_path / 'db' / 'gateway.sqlite3'}"
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    database = Database(url)
    tables = set(sa.inspect(database.engine).get_table_names())
    database.dispose()
    assert {"agencies", "api_keys", "surveys", "messages", "answers", "opt_outs"} <= tables


def test_db_upgrade_hides_the_password_it_connected_with(migrated_postgres_url: str) -> None:
    url = (
        sa.make_url(migrated_postgres_url)
        .set(password="s3cret")
        .render_as_string(hide_password=False)
    )
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
