"""`gateway keys create` prints a working key alone on its last line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from config.settings import Settings
from gateway.app import create_app
from gateway.cli import main
from gateway.store.db import Database, db_of
from gateway.store.models import Agency, ApiKey
from tests.conftest import bearer


def create_key(database_url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["keys", "create", *args], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[-1]


def test_the_printed_key_opens_the_api(settings: Settings) -> None:
    key = create_key(settings.database_url, "--agency", "dmv")
    client = create_app(settings, {"TESTING": True}).test_client()
    assert client.get("/api/v1/responses", headers=bearer(key)).status_code == 200


def test_a_new_agency_is_created_with_its_help_contact(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    create_key(
        url,
        "--agency",
        "dmv",
        "--name",
        "Department of Motor Vehicles",
        "--help-contact",
        "Call 555-0100",
    )
    database = Database(url)
    with database.session() as session:
        agency = session.scalars(sa.select(Agency)).one()
    database.dispose()
    assert (agency.slug, agency.name, agency.help_contact) == (
        "dmv",
        "Department of Motor Vehicles",
        "Call 555-0100",
    )


def test_only_the_hash_of_the_key_is_stored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    key = create_key(url, "--agency", "dmv", "--label", "case system")
    database = Database(url)
    with database.session() as session:
        row = session.scalars(sa.select(ApiKey)).one()
    database.dispose()
    assert key.startswith("gw_") and len(key) >= 46
    assert key not in (row.key_hash, row.prefix) and key.startswith(row.prefix)
    assert row.label == "case system"


def test_a_second_key_for_the_same_agency_reuses_it(settings: Settings) -> None:
    first = create_key(settings.database_url, "--agency", "dmv")
    second = create_key(settings.database_url, "--agency", "dmv")
    assert first != second
    database = Database(settings.database_url)
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Agency)) == 1
    database.dispose()


def test_keys_work_on_sqlite_and_postgresql(settings: Settings, database_url: str) -> None:
    key = create_key(database_url, "--agency", "ssa")
    app = create_app(dataclasses.replace(settings, database_url=database_url), {"TESTING": True})
    response = app.test_client().get("/api/v1/responses", headers=bearer(key))
    db_of(app).dispose()
    assert response.status_code == 200


def test_a_slug_no_flow_could_name_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    for slug in ("DMV", "dmv agency", "-dmv", "dmv_1", "a" * 65, "d\x00mv"):
        result = CliRunner().invoke(
            main, ["keys", "create", "--agency", slug], env={"DATABASE_URL": url}
        )
        assert result.exit_code == 2, result.output
        assert "no agency a flow could name" in result.output
    database = Database(url)
    database.upgrade()
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count(Agency.id))) == 0
    database.dispose()
