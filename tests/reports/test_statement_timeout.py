"""Read-heavy requests run under PostgreSQL's statement timeout (``READ_STATEMENT_TIMEOUT``):
a statement that runs too long is cancelled, answered with the layer's own 503, and leaves
no connection checked out and no statement running. On SQLite the setting changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from config.settings import Settings
from gateway.store.db import db_of, make_engine
from gateway.store.slow_reads import timeout_ms
from tests.conftest import bearer
from tests.dashboard.test_dashboard import add_staff, sign_in
from tests.support.results import AddSurvey

Q1 = "/api/v1/reports/a11?flow=visit-v2&fiscal_year=2027&quarter=1"
#: A limit far below the five seconds each slowed statement would take.
LIMIT = 0.2


@pytest.fixture
def surveys(add_survey: AddSurvey) -> None:
    moment = datetime(2026, 10, 15, tzinfo=UTC)
    add_survey("visit-v2", moment, answers={"trust": "yes", "comment": "Quick"})
    add_survey("visit-v2", moment, answers={"trust": "no"})


@pytest.fixture
def slow_surveys(app: Flask, database_url: str, surveys: None) -> Iterator[None]:
    """Every statement that reads the surveys table takes five seconds (PostgreSQL only)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("statement timeouts are PostgreSQL's; SQLite runs in the process")
    db_of(app).read_timeout = LIMIT
    engine = db_of(app).engine

    def _slowed(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        if statement.lstrip().upper().startswith("SELECT") and "FROM surveys" in statement:
            slowed = "FROM (SELECT *, pg_sleep(5) AS slowed FROM surveys) AS surveys"
            statement = statement.replace("FROM surveys", slowed, 1)
        return statement, parameters

    event.listen(engine, "before_cursor_execute", _slowed, retval=True)
    yield
    event.remove(engine, "before_cursor_execute", _slowed)


def assert_nothing_held(app: Flask, database_url: str) -> None:
    """No connection of the app's pool checked out, and no slowed statement still running."""
    assert db_of(app).engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    observer = make_engine(database_url)
    try:
        with observer.connect() as connection:
            running = connection.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE state = 'active' AND query LIKE '%pg_sleep(5)%' "
                    "AND pid <> pg_backend_pid()"
                )
            )
    finally:
        observer.dispose()
    assert running == 0


@pytest.mark.parametrize(
    "path",
    [
        Q1,
        Q1 + "&format=csv",
        "/api/v1/responses",
        "/api/v1/responses?flow=visit-v2&format=floip-data",
    ],
)
def test_an_api_read_past_the_limit_is_a_json_503_naming_the_reason(
    app: Flask,
    client: FlaskClient,
    dmv_key: str,
    database_url: str,
    slow_surveys: None,
    path: str,
) -> None:
    started = time.monotonic()
    response = client.get(path, headers=bearer(dmv_key))
    body = response.get_data(as_text=True)  # a streamed export, read to its end
    assert time.monotonic() - started < 4, "the statement was cancelled, not waited for"
    assert response.status_code == 503, body
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "query_timeout"
    assert "0.2-second limit" in error["message"]
    assert error["details"] == {"limit_seconds": LIMIT}
    assert_nothing_held(app, database_url)


def test_a_dashboard_page_past_the_limit_is_the_dashboards_503_page(
    app: Flask, client: FlaskClient, database_url: str, slow_surveys: None
) -> None:
    add_staff(app, "dmv", "analyst@dmv.example.gov")
    assert sign_in(client, "analyst@dmv.example.gov") == 302
    response = client.get("/dashboard/flows/visit-v2?from=2026-10-01&to=2026-12-31")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "took too long" in page
    assert "Sign out" in page or "sign out" in page.lower()  # the dashboard's own layout
    assert_nothing_held(app, database_url)


def test_reads_within_the_limit_are_answered_as_usual(
    app: Flask, client: FlaskClient, dmv_key: str, surveys: None
) -> None:
    db_of(app).read_timeout = 5.0
    report = client.get(Q1, headers=bearer(dmv_key))
    assert report.status_code == 200
    listed = client.get("/api/v1/responses", headers=bearer(dmv_key))
    assert listed.status_code == 200
    assert len(listed.get_json()["data"]) == 2


def test_the_limit_comes_from_configuration_and_is_off_on_sqlite(app: Flask) -> None:
    assert Settings.from_env({}).read_statement_timeout == 15.0
    assert Settings.from_env({"READ_STATEMENT_TIMEOUT": "2.5"}).read_statement_timeout == 2.5
    assert Settings.from_env({"READ_STATEMENT_TIMEOUT": "0"}).read_statement_timeout == 0.0
    for wrong in ("-1", "soon", "nan", "86400"):
        with pytest.raises(ValueError, match="READ_STATEMENT_TIMEOUT"):
            Settings.from_env({"READ_STATEMENT_TIMEOUT": wrong})
    database = db_of(app)
    database.read_timeout = 2.5
    assert timeout_ms(database) == (0 if database.is_sqlite else 2500)
    database.read_timeout = 0
    assert timeout_ms(database) == 0
