"""Shared fixtures: settings, the app, its test client and CLI runner, and throwaway
PostgreSQL databases and Redis namespaces so that test runs never see each other's data."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from config.logging import configure_logging
from config.settings import Settings
from gateway.agencies.keys import create_api_key, ensure_agency
from gateway.app import create_app
from gateway.sending.sweeper import Sweeper
from gateway.store.db import db_of, make_engine, upgrade
from gateway.store.models import Base
from tests.private_services import services_for_tests

#: Fixtures shared across test packages: gateways with simulated delivery, a gateway whose
#: jobs go through rq on real Redis, a migrated store.
pytest_plugins = ["tests.support.gateways", "tests.support.queued", "tests.support.databases"]

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_FLOWS = ROOT / "flows"

#: The servers of this run: TEST_POSTGRES_URL and TEST_REDIS_URL (the machine's by default)
#: when they answer, else private ones started for the run (tests/private_services.py).
SERVICES = services_for_tests()
POSTGRES_ADMIN_URL = SERVICES.postgres_url
REDIS_TEST_URL = SERVICES.redis_url


def pytest_report_header() -> list[str]:
    return SERVICES.notes


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need a server which neither answers nor can be started here: in CI an
    error naming the package to install; elsewhere skipped with that same reason."""
    for item in items:
        for marker, why in SERVICES.missing.items():
            if item.get_closest_marker(marker) is None:
                continue
            if os.environ.get("CI"):
                raise pytest.UsageError(why)
            item.add_marker(pytest.mark.skip(reason=why))


def pytest_unconfigure(config: pytest.Config) -> None:
    SERVICES.stop()


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped on leaving."""
    import sqlalchemy as sa

    name = f"gw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema yet, of this test's own: a SQLite file, or a PostgreSQL
    database (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def queue_prefix() -> str:
    """A Redis namespace of this test's own: queues and keys never collide across runs."""
    return f"test-{uuid.uuid4().hex[:10]}:"


@pytest.fixture
def flow_files() -> Mapping[str, str] | None:
    """The flows the test's app loads, by file name; None loads the shipped flows. A test
    directory or module that needs flows of its own overrides this fixture."""
    return None


@pytest.fixture
def flows_dir(tmp_path: Path, flow_files: Mapping[str, str] | None) -> Path:
    """The folder the app reads its flows from: the shipped flows, or ``flow_files``
    written to a folder of the test's own."""
    if flow_files is None:
        return SHIPPED_FLOWS
    directory = tmp_path / "flows"
    directory.mkdir()
    for name, text in flow_files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def settings(tmp_path: Path, flows_dir: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'gateway.sqlite3'}",
        secret_key="test-secret-key",
        secret_key_generated=False,
        flows_dir=flows_dir,
        public_base_url="https://gateway.example.gov",
        environment="test",
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The app of ``settings``, with the test's flows (``flow_files``)."""
    app = create_app(settings, {"TESTING": True})
    yield app
    db_of(app).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_url: str) -> str:
    """The session's PostgreSQL database with the migrations applied."""
    upgrade(postgres_url)
    return postgres_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, then the session's PostgreSQL database
    (emptied after each test)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
        upgrade(url)
        yield url
        return
    url = request.getfixturevalue("migrated_postgres_url")
    yield url
    engine = make_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


def new_key(app: Flask, slug: str) -> str:
    """A new API key for the agency ``slug`` (created if new)."""
    with db_of(app).session() as session:
        agency = ensure_agency(session, slug, name=slug.upper())
        return create_api_key(session, agency, "tests")[1]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def dmv_key(app: Flask) -> str:
    return new_key(app, "dmv")


@pytest.fixture
def irs_key(app: Flask) -> str:
    return new_key(app, "irs")


@pytest.fixture(autouse=True)
def _quick_lane_never_fails_unseen(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """A quick path that raises is logged and its request served by the view's general
    path, so its answer looks right: fail the test unless it expects that."""
    yield
    if request.node.get_closest_marker("quick_lane_fails") or request.node.get_closest_marker(
        "faults"
    ):
        return
    failures = [r for r in caplog.records if r.name == "gateway.twilio.quick_lane"]
    assert not failures, f"the quick lane failed: {failures[0].getMessage()}"


@pytest.fixture(autouse=True)
def _no_sweeper_outlives_its_test() -> Iterator[None]:
    """An app outside testing mode starts the in-process sweeper with its first request:
    stop it with the test, before it sweeps a database the next test is using."""
    yield
    for thread in threading.enumerate():
        if isinstance(thread, Sweeper):
            thread.stop()


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[list[dict[str, Any]]]:
    """The JSON lines the gateway writes to stderr during the test (as in production)."""
    root = logging.getLogger()
    level = root.level
    configure_logging("json", "DEBUG")
    lines: list[dict[str, Any]] = []
    yield lines
    for handler in list(root.handlers):
        if getattr(handler, "_gateway_handler", False):
            root.removeHandler(handler)
    root.setLevel(level)
