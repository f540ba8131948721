"""Hostile query strings and paths on the dashboard: each is a 400 (or 404) page of the
dashboard, never a 500, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from gateway.dashboard import views
from gateway.store.db import db_of
from tests.dashboard.test_dashboard import add_staff, at, sign_in
from tests.support.results import AddSurvey


@pytest.fixture
def staff(app: Flask, client: FlaskClient, add_survey: AddSurvey) -> FlaskClient:
    add_survey("visit-v2", at(1), answers={"trust": "yes", "comment": "Quick"})
    add_staff(app, "dmv", "analyst@dmv.example.gov")
    assert sign_in(client, "analyst@dmv.example.gov") == 302
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/flows/visit-v2?to=9999-12-31",
        "/dashboard/flows/visit-v2?from=0001-01-01",
        "/dashboard/flows/visit-v2?location=a%00b",
        "/dashboard/flows/visit-v2?language=%00",
        "/dashboard/flows/visit-v2/comments?q=%00",
        "/dashboard/flows/visit-v2/comments?location=%01",
        "/dashboard/flows/visit-v2/comments?page=99999999999999999999",
        "/dashboard/flows/visit-v2/comments?to=9999-12-31",
        "/dashboard/flows/%00",
        "/dashboard/flows/%00/comments",
        "/dashboard/flows/visit-v2?q=" + "x" * 5000,
    ],
)
def test_a_hostile_query_is_a_400_page(staff: FlaskClient, path: str) -> None:
    response = staff.get(path)
    assert response.status_code in (400, 404)
    assert response.mimetype == "text/html"
    assert "Content-Security-Policy" in response.headers


def test_a_nul_in_the_sign_in_form_is_a_400_page(client: FlaskClient) -> None:
    response = client.post("/dashboard/login", data={"email": "a\x00@x.gov", "password": "p"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_a_dashboard_query_that_runs_too_long_is_cancelled_with_a_clear_page(
    app: Flask, staff: FlaskClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("statement timeouts are PostgreSQL's; SQLite runs in-process")
    monkeypatch.setattr(db_of(app), "read_timeout", 0.05)  # READ_STATEMENT_TIMEOUT=0.05

    def slow(session: Session, *args: Any, **kwargs: Any) -> Any:
        session.execute(sa.text("SELECT pg_sleep(5)"))
        raise AssertionError("the statement was not cancelled")

    monkeypatch.setattr(views.queries, "comments", slow)
    started = time.monotonic()
    response = staff.get("/dashboard/flows/visit-v2/comments")
    assert time.monotonic() - started < 4
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "took too long" in response.get_data(as_text=True)
