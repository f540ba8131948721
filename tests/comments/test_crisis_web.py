"""On the web survey pages (public entry and email invitations alike) a comment read as
crisis language shows the flow's crisis message on the next page and every page after,
in the page's language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from gateway.alerts import delivery as alert_delivery
from gateway.store.case_models import Case
from gateway.store.db import db_of
from gateway.store.models import Survey
from gateway.surveys.links import links_of
from tests.comments.support import CRISIS_HOOK, FLOWS
from tests.sms.support import Gateway, make_gateway
from tests.web.support import follow, page_form, start_public, text

FLOW = (FLOWS / "comment-visit.yaml").read_text(encoding="utf-8")
AGAIN = """  - id: again
    type: yesno
    prompt:
      en: Would you visit us again?
      es: ¿Nos visitaría de nuevo?
"""
EN = "If you are in crisis, call or text 988 (Suicide and Crisis Lifeline)."
ES = "Si está en crisis, llame o envíe un texto al 988"


@pytest.fixture
def gw(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    """The comments flow on the web and by email, with a question after the comment."""
    flow = FLOW.replace("channels: [sms, web]", "channels: [sms, web, email]")
    flow = flow.replace("alerts:\n", AGAIN + "alerts:\n")
    assert flow.count("channels: [sms, web, email]") == 1 and AGAIN in flow
    (tmp_path / "comment-visit.yaml").write_text(flow, encoding="utf-8")
    gateway = make_gateway(
        database_url, flows_dir=tmp_path, outbound_allowlist=("https://crisis.dmv.example.gov",)
    )
    yield gateway
    alert_delivery.wait_for_background(gateway.app)


@responses.activate
def test_a_spanish_crisis_comment_on_the_web_shows_the_crisis_message_from_the_next_page(
    gw: Gateway,
) -> None:
    responses.add(responses.POST, CRISIS_HOOK, status=204)
    client = gw.app.test_client()
    first = start_public(client, "comment-visit", lang="es")
    assert ES not in text(first)
    form = page_form(first)
    comment_page = follow(client, form.submit(client, answer="4"))
    assert ES not in text(comment_page)
    after = follow(
        client,
        page_form(comment_page).submit(client, answer="Ya no quiero vivir, nadie me ayuda"),
    )
    assert "¿Nos visitaría de nuevo?" in text(after)
    assert ES in text(after) and EN not in text(after)
    alert_delivery.wait_for_background(gw.app)
    done = follow(client, page_form(after).submit(client, answer="no"))
    assert "Gracias por su opinión." in text(done) and ES in text(done)
    (case,) = gw.rows(Case)
    assert case.priority == "urgent" and case.channel == "web"


@responses.activate
def test_an_email_invited_respondent_sees_the_crisis_message_on_the_page_after_the_comment(
    gw: Gateway,
) -> None:
    responses.add(responses.POST, CRISIS_HOOK, status=204)
    survey_id = gw.trigger(
        flow="comment-visit", channel="email", to="pat@example.com", context={"office": "Main"}
    )["id"]
    with db_of(gw.app).session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        token = links_of(gw.app).make("survey", survey.id, survey.expires_at)
    client = gw.app.test_client()
    first = client.get(f"/s/{token}")
    comment_page = follow(client, page_form(first).submit(client, answer="2"))
    after = follow(
        client, page_form(comment_page).submit(client, answer="I am going to kill myself")
    )
    assert "Would you visit us again?" in text(after) and EN in text(after)
    again = client.get(f"/s/{token}")  # the same page, visited again
    assert EN in text(again)


def test_a_comment_without_crisis_language_shows_no_crisis_message(gw: Gateway) -> None:
    client = gw.app.test_client()
    first = start_public(client, "comment-visit")
    comment_page = follow(client, page_form(first).submit(client, answer="4"))
    after = follow(client, page_form(comment_page).submit(client, answer="This line is killing me"))
    assert "Would you visit us again?" in text(after)
    assert "988" not in text(after)
    done = follow(client, page_form(after).submit(client, answer="yes"))
    assert "988" not in text(done)
