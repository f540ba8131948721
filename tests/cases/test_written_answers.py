"""An email respondent writes back on the page the reply email links to (``/r/<token>``):
their answer lands in the case as an answer by text does; a visit alone records nothing;
a forged form, a tampered or expired link and a resolved case change nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from channels.email import SimulatedEmail
from gateway.alerts.rules import DISPATCH_KEY
from gateway.cases import replies
from gateway.services.providers import providers_of
from gateway.store.case_models import CaseEvent
from gateway.store.db import db_of
from gateway.store.models import Message
from gateway.store.results_models import Delivery
from gateway.surveys.links import links_of
from gateway.web import reply_pages
from tests.cases.conftest import answer_survey, api
from tests.sms.support import Gateway

APOLOGY_EN = "We are sorry about your visit to Downtown. What went wrong?"
APOLOGY_ES = "Lamentamos su visita a Downtown. ¿Qué salió mal?"
SUBSCRIBER = "https://crm.dmv.example.gov/events"
ANSWER = "The clerk at window 4 sent me home without the form"


def _replied(gateway: Gateway, language: str = "en") -> tuple[dict[str, Any], str]:
    """A case of an email survey, replied to; the case and the reply page's path."""
    survey_id = answer_survey(gateway, "1", "yes", channel="email", language=language)
    listed = gateway.client.get("/api/v1/cases?view=all", headers=api(gateway)).get_json()
    case_id = next(c["id"] for c in listed["data"] if c["survey_id"] == survey_id)
    sent = gateway.client.post(
        f"/api/v1/cases/{case_id}/replies", json={"template": "apology"}, headers=api(gateway)
    )
    assert sent.status_code == 202, sent.get_json()
    email = providers_of(gateway.app).email
    assert isinstance(email, SimulatedEmail)
    text = email.sent[-1].email.text
    found = re.search(r"https?://[^/\s]+(/r/[A-Za-z0-9_.\-]+)", text)
    assert found is not None, text
    return _case(gateway, case_id), found[1]


def _case(gateway: Gateway, case_id: str) -> dict[str, Any]:
    data: dict[str, Any] = gateway.client.get(
        f"/api/v1/cases/{case_id}", headers=api(gateway)
    ).get_json()
    return data


def _form_token(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html[:2000]
    return found[1]


def _events(gateway: Gateway, case_id: str) -> list[tuple[str, str | None]]:
    with db_of(gateway.app).session() as session:
        rows = session.execute(
            sa.select(CaseEvent.kind, CaseEvent.body)
            .where(CaseEvent.case_id == case_id)
            .order_by(CaseEvent.id)
        )
        return [(kind, body) for kind, body in rows]


def test_the_reply_email_links_to_a_page_that_shows_the_message(gateway: Gateway) -> None:
    case, path = _replied(gateway)
    email = providers_of(gateway.app).email
    assert isinstance(email, SimulatedEmail)
    sent = email.sent[-1].email
    assert sent.text.startswith(APOLOGY_EN + "\n\nTo answer, write back on this page: ")
    assert f'href="https://gateway.example.gov{path}"' in (sent.html or "")
    page = gateway.client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert APOLOGY_EN in html and '<label class="usa-label" for="answer">Your answer' in html
    assert page.headers["Cache-Control"] == "no-store"
    # The message (the template's words) is the survey's message; the link is not kept.
    with db_of(gateway.app).session() as session:
        bodies = list(
            session.scalars(sa.select(Message.body).where(Message.survey_id == case["survey_id"]))
        )
    assert APOLOGY_EN in bodies and not any("/r/" in body for body in bodies)


def test_a_visit_records_nothing_and_the_answer_lands_in_the_case(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[int] = []
    monkeypatch.setitem(gateway.app.extensions, DISPATCH_KEY, queued.extend)
    subscribed = gateway.client.post(
        "/api/v1/webhooks",
        json={"url": SUBSCRIBER, "events": ["case.answered"]},
        headers=api(gateway),
    )
    assert subscribed.status_code == 201, subscribed.get_json()
    case, path = _replied(gateway)
    before = _events(gateway, case["id"])
    client = gateway.app.test_client()
    for visit in (path, path, f"{path}/sent"):  # a mail scanner, then the respondent
        assert client.get(visit).status_code == 200
    assert _events(gateway, case["id"]) == before

    sent = client.post(path, data={"csrf_token": _form_token(client, path), "answer": ANSWER})
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"{path}/sent")
    thanks = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Your answer was sent" in thanks

    after = _case(gateway, case["id"])
    assert after["status"] == "in_progress"  # it was waiting on the respondent
    assert [(h["kind"], h["actor"], h["body"]) for h in after["history"][-2:]] == [
        ("answer", "respondent", ANSWER),
        ("status", "respondent", None),
    ]
    written = [m for m in after["messages"] if m["direction"] == "inbound"]
    assert [(m["channel"], m["body"]) for m in written] == [("web", ANSWER)]
    assert gateway.survey(case["survey_id"])["answers"] == {"satisfied": 1, "may_contact": "yes"}
    with db_of(gateway.app).session() as session:
        (delivery,) = session.scalars(sa.select(Delivery).where(Delivery.event == "case.answered"))
    assert json.loads(delivery.body)["case_id"] == case["id"]
    assert ANSWER not in delivery.body  # events carry no words
    assert queued == [delivery.id]


def test_the_same_answer_sent_twice_is_kept_once(gateway: Gateway) -> None:
    case, path = _replied(gateway)
    client = gateway.app.test_client()
    token = _form_token(client, path)
    for _ in range(2):  # a double click, or the form sent again with Back
        assert client.post(path, data={"csrf_token": token, "answer": ANSWER}).status_code == 303
    client.post(path, data={"csrf_token": token, "answer": "One more thing: the wait"})
    answers = [body for kind, body in _events(gateway, case["id"]) if kind == "answer"]
    assert answers == [ANSWER, "One more thing: the wait"]


def test_a_forged_or_empty_form_changes_nothing(gateway: Gateway) -> None:
    case, path = _replied(gateway)
    client = gateway.app.test_client()
    before = _events(gateway, case["id"])
    forged = client.post(path, data={"answer": ANSWER})
    assert forged.status_code == 400
    assert "Your answer was not sent" in forged.get_data(as_text=True)
    other = links_of(gateway.app).csrf_token("sv_another")
    assert client.post(path, data={"csrf_token": other, "answer": ANSWER}).status_code == 400
    token = _form_token(client, path)
    empty = client.post(path, data={"csrf_token": token, "answer": " \x00\x07 "})
    assert empty.status_code == 200
    assert "Write your answer before you send it." in empty.get_data(as_text=True)
    assert _events(gateway, case["id"]) == before


def test_hostile_text_is_cleaned_masked_and_a_long_answer_is_shown_back(gateway: Gateway) -> None:
    case, path = _replied(gateway)
    client = gateway.app.test_client()
    token = _form_token(client, path)
    too_long = "x" * (reply_pages.MAX_ANSWER + 1)
    shown = client.post(path, data={"csrf_token": token, "answer": too_long})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and too_long in html  # kept for the respondent to trim
    assert f"It has {reply_pages.MAX_ANSWER + 1}" in html
    hostile = "<script>alert(1)</script>\x00\x1b[2J It was\x7f rude"
    assert client.post(path, data={"csrf_token": token, "answer": hostile}).status_code == 303
    contact = "Call me at 202-555-0147 or write to jo@example.com"
    assert client.post(path, data={"csrf_token": token, "answer": contact}).status_code == 303
    answers = [body for kind, body in _events(gateway, case["id"]) if kind == "answer"]
    # Stored as every text is: control characters dropped, personal data masked.
    assert answers == [
        "<script>alert(1)</script>[2J It was rude",
        "Call me at [PHONE] or write to [EMAIL]",
    ]
    page = gateway.client.get(f"/api/v1/cases/{case['id']}", headers=api(gateway))
    assert page.status_code == 200


def test_a_tampered_expired_or_other_purpose_link_is_refused(gateway: Gateway) -> None:
    case, path = _replied(gateway)
    client = gateway.app.test_client()
    assert client.get(path + "x").status_code == 404
    links = links_of(gateway.app)
    survey_link = links.make("survey", case["survey_id"], None)
    assert client.get(f"/r/{survey_link}").status_code == 404
    past = datetime.now(UTC) - timedelta(minutes=1)
    expired = client.get(f"/r/{links.make('reply', case['survey_id'], past)}")
    assert expired.status_code == 410
    assert "This link has expired" in expired.get_data(as_text=True)
    unknown = links.make("reply", "sv_unknown", datetime.now(UTC) + timedelta(days=1))
    assert client.get(f"/r/{unknown}").status_code == 404
    # A reply link names a survey; one whose case was never replied to has no page.
    quiet = answer_survey(gateway, "1", "yes", channel="email")
    assert client.get(f"/r/{links.make('reply', quiet, None)}").status_code == 404


def test_a_resolved_case_takes_no_more_answers(gateway: Gateway) -> None:
    case, path = _replied(gateway)
    client = gateway.app.test_client()
    token = _form_token(client, path)
    gateway.client.patch(
        f"/api/v1/cases/{case['id']}",
        json={"status": "resolved", "resolution": "fixed"},
        headers=api(gateway),
    )
    before = _events(gateway, case["id"])
    page = client.get(path)
    assert page.status_code == 410
    assert "This conversation is closed" in page.get_data(as_text=True)
    late = client.post(path, data={"csrf_token": token, "answer": ANSWER})
    assert late.status_code == 410
    assert _events(gateway, case["id"]) == before


def test_the_answer_window_closes_the_page_as_it_closes_texts(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, path = _replied(gateway)
    client = gateway.app.test_client()
    token = _form_token(client, path)
    later = datetime.now(UTC) + replies.ANSWER_WINDOW + timedelta(minutes=1)
    monkeypatch.setattr(reply_pages, "_now", lambda: later)
    assert client.get(path).status_code == 410
    assert client.post(path, data={"csrf_token": token, "answer": ANSWER}).status_code == 410
    assert "answer" not in [kind for kind, _body in _events(gateway, case["id"])]


def test_a_spanish_respondent_reads_and_answers_in_spanish(gateway: Gateway) -> None:
    case, path = _replied(gateway, language="es")
    email = providers_of(gateway.app).email
    assert isinstance(email, SimulatedEmail)
    sent = email.sent[-1].email
    assert sent.subject == "Sobre sus comentarios"
    assert sent.text.startswith(APOLOGY_ES + "\n\nPara responder, escriba en esta página: ")
    html = gateway.client.get(path).get_data(as_text=True)
    assert '<html lang="es">' in html and APOLOGY_ES in html and "Enviar su respuesta" in html
    english = gateway.client.get(f"{path}?lang=en").get_data(as_text=True)
    assert (
        '<html lang="en">' in english and f'<p class="margin-0" lang="es">{APOLOGY_ES}' in english
    )
    assert _case(gateway, case["id"])["language"] == "es"  # reading in English changes nothing


def test_the_request_log_masks_the_reply_token(
    gateway: Gateway, json_logs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    _case_doc, path = _replied(gateway)
    capsys.readouterr()
    client = gateway.app.test_client()
    client.get(path)
    client.post(path, data={"csrf_token": _form_token(client, path), "answer": ANSWER})
    client.get(f"{path}/sent")
    err = capsys.readouterr().err
    token = path.split("/")[2]
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    paths = {line["path"] for line in lines if line["logger"] == "gateway.request"}
    assert paths == {"/r/[token]", "/r/[token]/sent"}
    assert token not in err and ANSWER not in err


def test_the_reply_page_is_limited_per_address_as_the_survey_pages_are(gateway: Gateway) -> None:
    case, path = _replied(gateway)
    gateway.app.config["PUBLIC_RATE_LIMIT"] = 2
    client = gateway.app.test_client()
    token = _form_token(client, path)  # the first request
    assert client.post(path, data={"csrf_token": token, "answer": ANSWER}).status_code == 303
    flooded = client.post(path, data={"csrf_token": token, "answer": "And again"})
    assert flooded.status_code == 429 and "Retry-After" in flooded.headers
    answers = [body for kind, body in _events(gateway, case["id"]) if kind == "answer"]
    assert answers == [ANSWER]
