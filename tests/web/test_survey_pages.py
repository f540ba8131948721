"""The web survey pages, driven through the test client as a browser with JavaScript off."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from config.settings import Settings
from gateway.app import create_app
from gateway.store.db import db_of
from gateway.store.models import Answer, Survey
from gateway.surveys.links import links_of
from tests.web.support import follow, page_form, start_public, text


def _answers(app: Flask) -> dict[str, object]:
    with db_of(app).session() as session:
        rows = session.scalars(sa.select(Answer)).all()
        return {row.question_id: row.value for row in rows}


def _only_survey(app: Flask) -> Survey:
    with db_of(app).session() as session:
        surveys = session.scalars(sa.select(Survey)).all()
        assert len(surveys) == 1
        return surveys[0]


def test_the_public_entry_starts_a_web_survey_with_the_location_in_its_context(
    app: Flask, client: FlaskClient
) -> None:
    page = start_public(client, location="downtown")
    assert page.status_code == 200
    survey = _only_survey(app)
    assert survey.channel == "web"
    assert survey.status == "started"
    assert survey.context["location"] == "downtown"
    assert survey.context["office"] == "downtown"
    assert "Thanks for visiting the downtown office." in text(page)


def test_the_first_screen_shows_the_full_pra_notice(client: FlaskClient) -> None:
    html = text(start_public(client))
    assert "OMB control number for this survey is 1234-5678" in html
    assert "expires on September 30, 2028" in html
    assert "about 2 minutes" in html
    assert "voluntary" in html
    assert "improve our service" in html
    assert "a person is not required to respond to" in html


def test_every_later_screen_names_the_omb_control_number_and_its_expiry(
    client: FlaskClient,
) -> None:
    page = start_public(client)
    for answer in ("2", ["wait", "staff"], "45"):
        page = follow(client, page_form(page).submit(client, answer=answer))
        html = text(page)
        assert "OMB No. 1234-5678" in html
        assert "exp. September 30, 2028" in html
        assert "a person is not required to respond to" not in html  # the short form


def test_a_survey_completed_on_the_web_records_every_answer(
    app: Flask, client: FlaskClient
) -> None:
    page = start_public(client)
    assert "Question 1 of 4" in text(page)
    page = follow(client, page_form(page).submit(client, answer="2"))
    assert "Question 2 of 4" in text(page)
    assert 'type="checkbox"' in text(page)
    page = follow(client, page_form(page).submit(client, answer=["wait", "staff"]))
    assert "Question 3 of 4" in text(page)
    page = follow(client, page_form(page).submit(client, answer="45"))
    page = follow(client, page_form(page).submit(client, answer="The line was long."))
    assert page.status_code == 200
    assert "Thank you for your feedback." in text(page)
    assert _answers(app) == {
        "satisfied": 2,
        "what_went_wrong": ["wait", "staff"],
        "minutes_waited": 45,
        "comment": "The line was long.",
    }
    assert _only_survey(app).status == "completed"


def test_progress_counts_only_questions_still_reachable(client: FlaskClient) -> None:
    page = start_public(client)
    page = follow(client, page_form(page).submit(client, answer="5"))
    assert "Question 2 of 3" in text(page)


def test_back_lets_the_respondent_change_an_earlier_answer(app: Flask, client: FlaskClient) -> None:
    page = start_public(client)
    page = follow(client, page_form(page).submit(client, answer="5"))
    page = follow(client, page_form(page).submit(client, action="back"))
    assert 'value="5" checked' in text(page)
    page = follow(client, page_form(page).submit(client, answer="1"))
    assert "What went wrong?" in text(page)
    assert _answers(app)["satisfied"] == 1


def test_an_optional_question_can_be_skipped(app: Flask, client: FlaskClient) -> None:
    page = start_public(client)
    page = follow(client, page_form(page).submit(client, answer="4"))
    assert "Skip this question" in text(page)
    page = follow(client, page_form(page).submit(client, action="skip"))
    assert "anything else" in text(page)
    with db_of(app).session() as session:
        row = session.scalars(sa.select(Answer).where(Answer.question_id == "minutes_waited")).one()
        assert (row.outcome, row.value) == ("skipped", None)


def test_nothing_selected_on_a_required_question_shows_an_error_tied_to_the_field(
    app: Flask, client: FlaskClient
) -> None:
    page = start_public(client)
    response = page_form(page).submit(client)
    html = text(response)
    assert response.status_code == 200
    assert 'id="error-summary"' in html and "Select an answer." in html
    assert 'aria-describedby="answer-error"' in html
    assert "usa-form-group--error" in html
    assert _answers(app) == {}


def test_an_answer_out_of_range_is_refused_and_not_recorded(
    app: Flask, client: FlaskClient
) -> None:
    page = start_public(client)
    page = follow(client, page_form(page).submit(client, answer="4"))
    response = page_form(page).submit(client, answer="601")
    html = text(response)
    assert "Enter a number from 0 to 600." in html
    assert 'aria-invalid="true"' in html
    assert re.search(r'aria-describedby="answer-hint answer-error"', html)
    assert 'value="601"' in html
    assert "minutes_waited" not in _answers(app)


def test_a_rating_outside_the_scale_is_refused(app: Flask, client: FlaskClient) -> None:
    page = start_public(client)
    response = page_form(page).submit(client, answer="9")
    assert "Enter a number from 1 to 5." in text(response)
    assert _answers(app) == {}


def test_oversized_free_text_is_refused_with_its_length(app: Flask, client: FlaskClient) -> None:
    page = start_public(client)
    page = follow(client, page_form(page).submit(client, answer="4"))
    page = follow(client, page_form(page).submit(client, action="skip"))
    assert 'maxlength="500"' in text(page)
    response = page_form(page).submit(client, answer="x" * 501)
    assert "500 characters or fewer. It has 501." in text(response)
    assert "comment" not in _answers(app)


def test_a_double_submission_of_the_same_step_records_one_answer(
    app: Flask, client: FlaskClient
) -> None:
    page = start_public(client)
    form = page_form(page)
    follow(client, form.submit(client, answer="5"))
    second = form.submit(client, answer="1")
    assert second.status_code == 303
    page = follow(client, second)
    assert "Question 2 of 3" in text(page)
    assert _answers(app) == {"satisfied": 5}


def test_a_post_without_the_csrf_token_gets_a_400_page_and_records_nothing(
    app: Flask, client: FlaskClient
) -> None:
    page = start_public(client)
    form = page_form(page)
    response = client.post(form.action, data={"step": form.fields["step"], "answer": "5"})
    assert response.status_code == 400
    assert "Your answer was not sent" in text(response)
    assert "usa-" in text(response)
    assert _answers(app) == {}


def test_a_csrf_token_of_another_survey_is_refused(app: Flask, client: FlaskClient) -> None:
    page = start_public(client)
    form = page_form(page)
    other = links_of(app).csrf_token("sv_someoneelse")
    response = form.submit(client, answer="5", csrf_token=other)
    assert response.status_code == 400


def test_a_tampered_link_gets_a_friendly_404_page(client: FlaskClient) -> None:
    page = start_public(client)
    action = page_form(page).action
    tampered = action[:-3] + ("AAA" if not action.endswith("AAA") else "BBB")
    response = client.get(tampered)
    assert response.status_code == 404
    assert "This link does not work" in text(response)


def test_an_expired_link_gets_a_friendly_410_page(app: Flask, client: FlaskClient) -> None:
    start_public(client)
    survey = _only_survey(app)
    token = links_of(app).make("survey", survey.id, datetime.now(UTC) - timedelta(minutes=1))
    response = client.get(f"/s/{token}")
    assert response.status_code == 410
    assert "This link has expired" in text(response)


def test_a_survey_past_its_expiry_gets_a_410_page(app: Flask, client: FlaskClient) -> None:
    page = start_public(client)
    with db_of(app).session() as session:
        survey = session.scalars(sa.select(Survey)).one()
        survey.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    response = client.get(page_form(page).action)
    assert response.status_code == 410


def test_a_finished_survey_link_gets_a_410_page(client: FlaskClient) -> None:
    page = start_public(client)
    action = page_form(page).action
    page = follow(client, page_form(page).submit(client, answer="5"))
    page = follow(client, page_form(page).submit(client, action="skip"))
    follow(client, page_form(page).submit(client, action="skip"))
    response = client.get(action)
    assert response.status_code == 410
    assert "already finished" in text(response)


def test_the_language_switch_shows_the_survey_in_spanish(app: Flask, client: FlaskClient) -> None:
    page = start_public(client)
    action = page_form(page).action
    page = follow(client, client.get(f"{action}?lang=es"))
    html = text(page)
    assert '<html lang="es">' in html
    assert "Estoy satisfecho con el servicio" in html
    assert "Pregunta 1 de 4" in html
    assert _only_survey(app).language == "es"


@pytest.fixture
def store_app(settings: Settings, database_url: str) -> Iterator[Flask]:
    """The app on SQLite and on PostgreSQL, where the row lock is real."""
    app = create_app(
        dataclasses.replace(settings, database_url=database_url),
        {"TESTING": True, "WEB_ENTRY_LIMIT": 5},
    )
    yield app
    db_of(app).dispose()


def test_revisiting_a_survey_under_way_only_reads(store_app: Flask) -> None:
    app, client = store_app, store_app.test_client()
    page = follow(client, page_form(start_public(client)).submit(client, answer="2"))
    action = page_form(page).action
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    engine = db_of(app).engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        again = client.get(action)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert again.status_code == 200
    assert "Question 2 of 4" in text(again)
    assert statements, "the page was read from the store"
    writes = [s for s in statements if s.lstrip().split()[0].upper() in {"INSERT", "UPDATE"}]
    assert writes == []
    assert not any("FOR UPDATE" in s.upper() for s in statements)


def test_a_first_visit_from_an_email_link_starts_the_survey_once(store_app: Flask) -> None:
    app, client = store_app, store_app.test_client()
    page = start_public(client)
    survey = _only_survey(app)
    with db_of(app).session() as session:
        row = session.get(Survey, survey.id)
        assert row is not None
        row.status, row.started_at = "sent", None
    action = page_form(page).action
    first = client.get(action)
    second = client.get(action)
    assert first.status_code == second.status_code == 200
    started = _only_survey(app)
    assert started.status == "started"
    assert started.started_at is not None
    assert "Question 1 of 4" in text(second)


def test_a_spanish_browser_starts_the_survey_in_spanish(client: FlaskClient) -> None:
    page = follow(
        client,
        client.get(
            "/f/office-visit?location=downtown", headers={"Accept-Language": "es-US,es;q=0.9"}
        ),
    )
    assert "Gracias por visitar la oficina de downtown." in text(page)


def test_an_unknown_flow_gets_a_404_page(client: FlaskClient) -> None:
    response = client.get("/f/no-such-flow")
    assert response.status_code == 404
    assert "Page not found" in text(response)


def test_a_flood_of_public_entries_gets_429_with_retry_after(
    app: Flask, client: FlaskClient
) -> None:
    statuses = [client.get("/f/office-visit?location=lobby").status_code for _ in range(7)]
    assert statuses[:5] == [303] * 5
    assert statuses[5:] == [429, 429]
    response = client.get("/f/office-visit?location=lobby")
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many surveys started" in text(response)
    with db_of(app).session() as session:
        assert session.scalar(sa.select(sa.func.count(Survey.id))) == 5
