"""Survey emails through a real SMTP server, and their links followed over HTTP."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from werkzeug.test import TestResponse

from gateway.app import create_app
from gateway.store.db import db_of
from gateway.store.models import Answer, Message, OptOut, Survey
from gateway.store.sealing import contact_hash
from tests.email.conftest import (
    RESPONDENT,
    SENDER,
    Agency,
    SmtpServer,
    agency_for,
    email_settings,
    free_port,
)
from tests.web.support import checked, follow, page_form, text


def _parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def _links(body: str, kind: str) -> list[str]:
    return re.findall(rf"https://gateway\.example\.gov(/{kind}/[A-Za-z0-9_.\-]+)", body)


def _survey(app: Flask, survey_id: str) -> Survey:
    with db_of(app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        return survey


def test_an_email_trigger_sends_a_multipart_email_through_smtp(
    agency: Agency, smtp_server: SmtpServer, smtp_app: Flask
) -> None:
    created = agency.trigger()
    [message] = smtp_server.recorder.messages
    assert message["To"] == RESPONDENT
    assert message["From"] == SENDER
    assert message["Subject"] == "Office visit feedback"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = _parts(message)
    assert "Thanks for visiting the Downtown office." in plain
    assert "I am satisfied with the service I received today." in html
    assert smtp_server.recorder.envelopes[0].rcpt_tos == [RESPONDENT]
    survey = _survey(smtp_app, created["id"])
    assert survey.status == "sent"


def test_the_email_answers_a_rating_in_one_click_per_point(
    smtp_server: SmtpServer, agency: Agency
) -> None:
    agency.trigger()
    plain, html = _parts(smtp_server.recorder.messages[0])
    assert len(_links(plain, "a")) == 5
    assert len(set(_links(html, "a"))) == 5
    assert "1 – Strongly disagree" in html and "5 – Strongly agree" in html
    assert len(_links(plain, "s")) == 1


def test_the_email_has_one_click_unsubscribe_headers(
    smtp_server: SmtpServer, agency: Agency
) -> None:
    agency.trigger()
    message = smtp_server.recorder.messages[0]
    assert re.fullmatch(r"<https://gateway\.example\.gov/u/[^>]+>", message["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_email_includes_the_pra_notice(smtp_server: SmtpServer, agency: Agency) -> None:
    agency.trigger()
    plain, html = _parts(smtp_server.recorder.messages[0])
    for body in (plain, html):
        assert "OMB control number for this survey is 1234-5678" in body
        assert "September 30, 2028" in body


def test_a_spanish_survey_email_is_in_spanish(smtp_server: SmtpServer, agency: Agency) -> None:
    agency.trigger(language="es")
    message = smtp_server.recorder.messages[0]
    plain, html = _parts(message)
    assert message["Subject"] == "Opinión sobre su visita"
    assert "Muy de acuerdo" in html
    assert '<html lang="es">' in html


def _confirm(agency: Agency, page: TestResponse) -> TestResponse:
    """The respondent continues on the page an answer link opened, its choice as selected."""
    [choice] = checked(page)
    return follow(agency.client, page_form(page).submit(agency.client, answer=choice))


def _answers(app: Flask, survey_id: str) -> list[tuple[str, Any]]:
    with db_of(app).session() as session:
        rows = session.scalars(sa.select(Answer).where(Answer.survey_id == survey_id))
        return [(row.question_id, row.value) for row in rows]


def test_a_click_opens_the_question_with_its_answer_chosen_and_records_nothing(
    smtp_server: SmtpServer, agency: Agency, smtp_app: Flask
) -> None:
    created = agency.trigger()
    plain, _ = _parts(smtp_server.recorder.messages[0])
    two = next(
        link for link in _links(plain, "a") if f"- 2: https://gateway.example.gov{link}" in plain
    )
    page = follow(agency.client, agency.client.get(two))
    assert page.status_code == 200
    assert "I am satisfied with the service I received today." in text(page)
    assert checked(page) == ["2"]
    assert "It is saved when you continue." in text(page)
    assert _answers(smtp_app, created["id"]) == []


def test_a_click_then_continue_records_the_answer_and_opens_the_next_question(
    smtp_server: SmtpServer, agency: Agency, smtp_app: Flask
) -> None:
    created = agency.trigger()
    plain, _ = _parts(smtp_server.recorder.messages[0])
    two = next(
        link for link in _links(plain, "a") if f"- 2: https://gateway.example.gov{link}" in plain
    )
    page = _confirm(agency, follow(agency.client, agency.client.get(two)))
    assert page.status_code == 200
    assert "What went wrong?" in text(page)
    assert "Question 2 of 4" in text(page)
    with db_of(smtp_app).session() as session:
        answer = session.scalars(sa.select(Answer)).one()
        assert (answer.question_id, answer.value) == ("satisfied", 2)
    assert _survey(smtp_app, created["id"]).status == "started"


def test_a_second_click_in_the_email_does_not_overwrite_the_answer(
    smtp_server: SmtpServer, agency: Agency, smtp_app: Flask
) -> None:
    agency.trigger()
    plain, _ = _parts(smtp_server.recorder.messages[0])
    links = _links(plain, "a")
    _confirm(agency, follow(agency.client, agency.client.get(links[4])))
    page = follow(agency.client, agency.client.get(links[0]))
    assert "I am satisfied with the service I received today." not in text(page)
    with db_of(smtp_app).session() as session:
        assert session.scalars(sa.select(Answer.value)).all() == [5]


def test_an_email_survey_is_completed_on_the_web(
    smtp_server: SmtpServer, agency: Agency, smtp_app: Flask
) -> None:
    created = agency.trigger()
    plain, _ = _parts(smtp_server.recorder.messages[0])
    page = _confirm(agency, follow(agency.client, agency.client.get(_links(plain, "a")[4])))
    page = follow(agency.client, page_form(page).submit(agency.client, answer="10"))
    page = follow(agency.client, page_form(page).submit(agency.client, answer="Quick visit."))
    assert "Thank you for your feedback." in text(page)
    survey = _survey(smtp_app, created["id"])
    assert survey.status == "completed"


def test_a_link_scanner_fetching_every_link_of_the_email_answers_nothing(
    smtp_server: SmtpServer, tmp_path: Path, database_url: str
) -> None:
    settings = email_settings(tmp_path, smtp_server.url).with_overrides(
        {"database_url": database_url}
    )
    app = create_app(settings, {"TESTING": True})
    agency = agency_for(app)
    created = agency.trigger()
    plain, html = _parts(smtp_server.recorder.messages[0])
    links = [link for kind in ("a", "s", "u") for link in dict.fromkeys(_links(plain + html, kind))]
    assert len(links) == 7  # five answers, the survey, unsubscribe
    # A mail gateway's scanner: every link, one after the other, no cookies, redirects
    # followed, all within a second of delivery, as scanners do.
    scanner = app.test_client(use_cookies=False)
    for link in links:
        assert follow(scanner, scanner.get(link)).status_code == 200
    assert _answers(app, created["id"]) == []
    survey = _survey(app, created["id"])
    assert survey.status in ("sent", "started")
    assert survey.completed_at is None
    with db_of(app).session() as session:
        assert (
            session.scalars(
                sa.select(OptOut).where(OptOut.contact_hash == contact_hash(RESPONDENT))
            ).all()
            == []
        )
    api = agency.client.get(
        f"/api/v1/surveys/{created['id']}", headers={"Authorization": f"Bearer {agency.api_key}"}
    )
    assert api.get_json()["answers"] == {}

    # The respondent then clicks "4" and continues: recorded once, however often resent.
    four = next(
        link for link in _links(plain, "a") if f"- 4: https://gateway.example.gov{link}" in plain
    )
    page = follow(agency.client, agency.client.get(four))
    form = page_form(page)
    _confirm(agency, page)
    again = form.submit(agency.client, answer="4")  # the same screen submitted twice
    assert again.status_code == 303
    assert _answers(app, created["id"]) == [("satisfied", 4)]
    db_of(app).dispose()


def test_the_unsubscribe_link_records_an_opt_out_and_closes_open_surveys(
    smtp_server: SmtpServer, agency: Agency, smtp_app: Flask
) -> None:
    created = agency.trigger()
    plain, _ = _parts(smtp_server.recorder.messages[0])
    [unsubscribe] = _links(plain, "u")
    confirm = agency.client.get(unsubscribe)
    assert "Stop sending survey emails to jane.doe@example.gov?" in text(confirm)
    assert _survey(smtp_app, created["id"]).status == "sent"
    done = page_form(confirm).submit(agency.client)
    assert done.status_code == 200
    assert "You are unsubscribed" in text(done)
    assert _survey(smtp_app, created["id"]).status == "opted_out"
    with db_of(smtp_app).session() as session:
        assert session.scalars(sa.select(OptOut.contact_hash)).all() == [contact_hash(RESPONDENT)]


def test_the_list_unsubscribe_one_click_post_opts_out(
    smtp_server: SmtpServer, agency: Agency, smtp_app: Flask
) -> None:
    created = agency.trigger()
    header = smtp_server.recorder.messages[0]["List-Unsubscribe"]
    path = header.strip("<>").removeprefix("https://gateway.example.gov")
    response = agency.client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert _survey(smtp_app, created["id"]).status == "opted_out"


def test_an_unsubscribed_address_gets_no_more_survey_emails(
    smtp_server: SmtpServer, agency: Agency, smtp_app: Flask
) -> None:
    agency.trigger()
    path = smtp_server.recorder.messages[0]["List-Unsubscribe"].strip("<>")
    agency.client.post(
        path.removeprefix("https://gateway.example.gov"), data={"List-Unsubscribe": "One-Click"}
    )
    created = agency.trigger()
    assert len(smtp_server.recorder.messages) == 1
    assert _survey(smtp_app, created["id"]).status == "opted_out"


def test_an_answer_link_cannot_be_used_to_unsubscribe(
    smtp_server: SmtpServer, agency: Agency, smtp_app: Flask
) -> None:
    created = agency.trigger()
    plain, _ = _parts(smtp_server.recorder.messages[0])
    token = _links(plain, "a")[0].removeprefix("/a/")
    response = agency.client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404
    assert _survey(smtp_app, created["id"]).status == "sent"


def test_without_smtp_url_the_email_is_recorded_as_simulated(tmp_path: Path) -> None:
    app = create_app(email_settings(tmp_path, None), {"TESTING": True})
    created = agency_for(app).trigger()
    with db_of(app).session() as session:
        message = session.scalars(sa.select(Message)).one()
        assert (message.channel, message.direction, message.status) == (
            "email",
            "outbound",
            "simulated",
        )
        assert "https://gateway.example.gov/a/" in message.body
    assert _survey(app, created["id"]).status == "sent"


def test_a_transient_smtp_refusal_is_recorded_and_retried(
    smtp_server: SmtpServer, agency: Agency, smtp_app: Flask
) -> None:
    smtp_server.recorder.refuse[RESPONDENT] = "451 4.3.0 Mailbox busy, try later"
    created = agency.trigger()
    with db_of(smtp_app).session() as session:
        message = session.scalars(sa.select(Message)).one()
        assert (message.status, message.error_code) == ("pending", "smtp-451")
    survey = _survey(smtp_app, created["id"])
    assert survey.status == "queued"
    assert "smtp-451" in (survey.failure_reason or "")


def test_a_permanent_smtp_refusal_fails_the_survey(
    smtp_server: SmtpServer, agency: Agency, smtp_app: Flask
) -> None:
    smtp_server.recorder.refuse[RESPONDENT] = "550 5.1.1 No such user"
    created = agency.trigger()
    survey = _survey(smtp_app, created["id"])
    assert survey.status == "failed"
    assert "smtp-550" in (survey.failure_reason or "")
    assert "No such user" in (survey.failure_reason or "")


def test_an_unreachable_smtp_server_is_a_retryable_failure(tmp_path: Path) -> None:
    app = create_app(email_settings(tmp_path, f"smtp://127.0.0.1:{free_port()}"), {"TESTING": True})
    created = agency_for(app).trigger()
    with db_of(app).session() as session:
        message = session.scalars(sa.select(Message)).one()
        assert (message.status, message.error_code) == ("pending", "network")
    assert _survey(app, created["id"]).status == "queued"
