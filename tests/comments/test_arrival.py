"""Free-text answers on arrival: stored redacted everywhere staff look, read, kept
sealed only when the flow says so, and crisis language routed at once."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
import responses
import sqlalchemy as sa

from channels.email import SimulatedEmail
from gateway.alerts import delivery as alert_delivery
from gateway.privacy.erasure import erase_due
from gateway.services.providers import providers_of
from gateway.store.case_models import Case
from gateway.store.comment_models import CommentReading
from gateway.store.db import db_of
from gateway.store.models import Message, OptOut, Survey, utcnow
from gateway.store.sealing import contact_hash
from gateway.surveys import comment_arrival, crisis_replies
from tests.comments.support import (
    COMMENT,
    CRISIS_HOOK,
    PHONE,
    SSN,
    api,
    converse,
    dashboard,
)
from tests.sms.support import RESPONDENT, Gateway, replies


def every_stored_text(gw: Gateway) -> str:
    """Every text column of every table, as the database holds it."""
    found = []
    with db_of(gw.app).engine.connect() as conn:
        for table in db_of(gw.app).engine.dialect.get_table_names(conn):
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):  # noqa: S608
                found.extend(str(value) for value in row if value is not None)
    return "\n".join(found)


def test_an_sms_comment_with_an_ssn_is_never_shown_or_stored_unredacted(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    survey_id, _ = converse(gw, ["1", COMMENT])
    masked = "Waited 3 hours and the clerk was rude. My SSN is [SSN], call me at [PHONE]"

    survey = json.loads(api(gw, f"/api/v1/surveys/{survey_id}"))
    assert survey["answers"]["comment"] == masked
    assert masked in [m["body"] for m in survey["messages"]]
    shown = [
        json.dumps(survey),
        api(gw, "/api/v1/responses?flow=comment-visit"),
        api(gw, "/api/v1/responses?flow=comment-visit&format=csv"),
        api(gw, "/api/v1/responses?flow=comment-visit&format=floip-data"),
        dashboard(gw, "/dashboard/flows/comment-visit/comments"),
    ]
    email = providers_of(gw.app).email
    assert isinstance(email, SimulatedEmail)
    (alert,) = [sent.email for sent in email.sent if sent.email.to == "office@dmv.example.gov"]
    shown.append(alert.text)
    assert "[SSN]" in shown[2] and "[SSN]" in shown[4] and "[SSN]" in alert.text
    places = ("api", "list", "csv", "floip", "dashboard", "email")
    for where, text in zip(places, shown, strict=True):
        assert SSN not in text and PHONE not in text, where
    assert SSN not in caplog.text and PHONE not in caplog.text
    assert SSN not in every_stored_text(gw), "the original is kept only sealed"


def test_the_comment_is_read_on_arrival_with_its_themes_and_sentiment(gw: Gateway) -> None:
    survey_id, _ = converse(gw, ["2", COMMENT])
    (reading,) = gw.rows(CommentReading, CommentReading.survey_id == survey_id)
    assert reading.themes == ["wait_time", "staff_courtesy"]
    assert reading.sentiment == "negative" and not reading.crisis
    assert reading.masked == ["ssn", "phone"]
    assert reading.office == "Main" and reading.reader == "rules"
    assert reading.original == COMMENT  # the flow keeps originals; sealed at rest


def test_the_original_is_erased_with_the_contact(gw: Gateway) -> None:
    survey_id, _ = converse(gw, ["2", COMMENT])
    with db_of(gw.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        survey.closed_at = utcnow() - timedelta(days=40)
    with db_of(gw.app).session() as session:
        assert erase_due(session, now=utcnow(), days=30).surveys == 1
    (reading,) = gw.rows(CommentReading, CommentReading.survey_id == survey_id)
    assert reading.original is None and reading.themes == ["wait_time", "staff_courtesy"]


def test_an_agency_identifier_is_masked_as_the_flow_names_it(gw: Gateway) -> None:
    survey_id, _ = converse(gw, ["3", "claim CL-20481234 is still pending"])
    survey = json.loads(api(gw, f"/api/v1/surveys/{survey_id}"))
    assert survey["answers"]["comment"] == "claim [CLAIM] is still pending"


@responses.activate
def test_a_spanish_crisis_text_opens_an_urgent_case_and_reaches_the_crisis_webhook_in_seconds(
    gw: Gateway,
) -> None:
    arrived: list[float] = []

    def hook(request: object) -> tuple[int, dict[str, str], str]:
        arrived.append(time.monotonic())
        return 204, {}, ""

    responses.add_callback(responses.POST, CRISIS_HOOK, callback=hook)
    survey_id = gw.trigger(flow="comment-visit", language="es", context={"office": "Main"})["id"]
    replies(gw.text("4"))
    sent_at = time.monotonic()
    answer = replies(gw.text("Ya no quiero vivir, me niegan todo. Mi seguro es 123-45-6789"))
    alert_delivery.wait_for_background(gw.app)

    assert arrived and arrived[0] - sent_at < 5.0
    body = json.loads(responses.calls[0].request.body)
    assert body["event"] == "comment.crisis" and body["survey_id"] == survey_id
    assert body["categories"] == ["self_harm"]
    assert {"category": "self_harm", "phrase": "ya no quiero vivir", "negated": False,
            "about_someone_else": False} in body["reasons"]  # fmt: skip
    assert "[SSN]" in body["comment"] and SSN not in responses.calls[0].request.body.decode()
    (case,) = gw.rows(Case, Case.survey_id == survey_id)
    assert case.priority == "urgent"
    case_page = dashboard(gw, f"/dashboard/cases/{case.id}")
    assert "Mi seguro es [SSN]" in case_page and SSN not in case_page
    assert answer == [
        "Gracias por su opinión.",
        "Si está en crisis, llame o envíe un texto al 988 "
        "(Línea de Prevención del Suicidio y Crisis).",
    ]
    email = providers_of(gw.app).email
    assert isinstance(email, SimulatedEmail)
    assert [s.email.to for s in email.sent] == ["crisis-desk@dmv.example.gov"]


def test_the_crisis_message_is_never_texted_to_a_number_that_opted_out(gw: Gateway) -> None:
    survey_id, _ = converse(gw, ["4"])
    with db_of(gw.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        comment_arrival.mark_routed(session, survey_id)
        assert crisis_replies.crisis_message(session, survey) == [
            "If you are in crisis, call or text 988 (Suicide and Crisis Lifeline)."
        ]
        session.add(OptOut(contact_hash=contact_hash(RESPONDENT), channel="sms", keyword="STOP"))
        session.flush()
        assert crisis_replies.crisis_message(session, survey) == []


def test_a_comment_without_crisis_language_fires_nothing(gw: Gateway) -> None:
    survey_id, answered = converse(gw, ["5", "The line is killing me but staff were kind"])
    assert answered[-1] == ["Thank you for your feedback."]
    assert not gw.rows(Case, Case.survey_id == survey_id)
    assert all("988" not in m.body for m in gw.messages(Message.survey_id == survey_id))
