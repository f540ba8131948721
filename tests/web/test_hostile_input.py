"""Hostile input on the web survey pages, on SQLite and PostgreSQL: a reply with characters
no store can keep is cleaned and kept; a query, path or hidden field with them is a 400
page of the survey, never a 500."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from config.settings import Settings
from gateway.app import create_app
from gateway.store.db import db_of
from gateway.store.models import Answer, Survey
from tests.web.support import follow, page_form, start_public, text


@pytest.fixture
def app(settings: Settings, database_url: str) -> Iterator[Flask]:
    app = create_app(
        dataclasses.replace(settings, database_url=database_url),
        {"TESTING": True, "WEB_ENTRY_LIMIT": 5},
    )
    yield app
    db_of(app).dispose()


def _answers(app: Flask) -> dict[str, object]:
    with db_of(app).session() as session:
        return {a.question_id: a.value for a in session.scalars(sa.select(Answer))}


def test_a_reply_with_nul_and_controls_is_cleaned_and_kept(app: Flask, client: FlaskClient) -> None:
    page = start_public(client)
    page = follow(client, page_form(page).submit(client, answer="2\x00"))
    page = follow(client, page_form(page).submit(client, answer=["wait", "st\x00aff"]))
    page = follow(client, page_form(page).submit(client, answer="45"))
    page = follow(client, page_form(page).submit(client, answer="The line\x00 was\x1b long."))
    assert page.status_code == 200
    assert "Thank you for your feedback." in text(page)
    assert _answers(app) == {
        "satisfied": 2,
        "what_went_wrong": ["wait", "staff"],
        "minutes_waited": 45,
        "comment": "The line was long.",
    }


@pytest.mark.parametrize(
    "path", ["/f/office-visit?location=down%00town", "/f/%00", "/f/office-visit?lang=%01"]
)
def test_a_hostile_query_or_path_is_a_400_page_that_starts_nothing(
    app: Flask, client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert response.mimetype == "text/html"
    with db_of(app).session() as session:
        assert session.scalar(sa.select(sa.func.count(Survey.id))) == 0


def test_a_hidden_field_with_a_nul_is_a_400_page_that_records_nothing(
    app: Flask, client: FlaskClient
) -> None:
    form = page_form(start_public(client))
    response = client.post(form.action, data={**form.fields, "step": "x\x00", "answer": "2"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert _answers(app) == {}
