"""An SMS survey handed off to the web: the link in the text, the web pages finishing it,
the reminder a later text gets, and the switch as the API shows it."""

from __future__ import annotations

import re

from werkzeug.test import TestResponse

from gateway.store.models import Survey
from tests.sms.support import PUBLIC_BASE_URL, Gateway, replies
from tests.web.support import follow, page_form, text

LINK = re.compile(re.escape(PUBLIC_BASE_URL) + r"(/s/[A-Za-z0-9_.\-]+)")


def link_path(message: str) -> str:
    """The path of the web survey link in a text."""
    match = LINK.search(message)
    assert match is not None, f"no survey link in {message!r}"
    return match.group(1)


def hand_off(gateway: Gateway, **fields: str) -> tuple[str, str]:
    """Start the permit survey and answer the two SMS questions: (survey id, hand-off text)."""
    survey_id = gateway.trigger(flow="permit-handoff", **fields)["id"]
    gateway.text("4")
    (handoff,) = replies(gateway.text("yes"))
    return survey_id, handoff


def open_link(gateway: Gateway, handoff: str) -> TestResponse:
    page = gateway.client.get(link_path(handoff))
    assert page.status_code == 200, text(page)
    return page


def test_reaching_the_handoff_question_texts_a_link_instead_of_the_question(
    gateway: Gateway,
) -> None:
    _, handoff = hand_off(gateway)
    assert handoff.startswith(f"To answer the rest, open this link: {PUBLIC_BASE_URL}/s/")
    assert "What could we do better" not in handoff


def test_the_handoff_text_is_in_the_surveys_language(gateway: Gateway) -> None:
    survey_id = gateway.trigger(flow="permit-handoff", language="es")["id"]
    gateway.text("4")
    (handoff,) = replies(gateway.text("sí"))
    assert handoff.startswith(f"Para responder el resto, abra este enlace: {PUBLIC_BASE_URL}/s/")
    assert gateway.survey(survey_id)["answers"] == {"satisfied": 4, "returning": "yes"}


def test_the_link_opens_the_web_survey_at_the_handed_off_question(gateway: Gateway) -> None:
    _, handoff = hand_off(gateway)
    html = text(open_link(gateway, handoff))
    assert "What could we do better? Choose all that apply." in html
    assert "Question 3 of 4" in html
    assert "Thank you for your answers by text message. They are saved." in html
    assert 'type="checkbox"' in html


def test_the_survey_finishes_on_the_web_and_the_api_shows_every_answer_and_the_switch(
    gateway: Gateway,
) -> None:
    survey_id, handoff = hand_off(gateway)
    page = open_link(gateway, handoff)
    page = follow(gateway.client, page_form(page).submit(gateway.client, answer=["wait", "forms"]))
    assert "Tell us more about your visit." in text(page)
    done = follow(gateway.client, page_form(page).submit(gateway.client, answer="Open earlier"))
    assert "Your answers are saved" in text(done)

    survey = gateway.survey(survey_id)
    assert survey["status"] == "completed" and survey["completed_at"] is not None
    assert survey["answers"] == {
        "satisfied": 4,
        "returning": "yes",
        "improve": ["wait", "forms"],
        "comment": "Open earlier",
    }
    assert survey["channel"] == "sms"
    assert survey["handoff"] == {"from": "sms", "to": "web", "question": "improve"}
    last = survey["messages"][-1]
    assert (last["direction"], last["channel"], last["body"]) == ("outbound", "sms", handoff)


def test_an_sms_survey_not_handed_off_shows_no_switch(gateway: Gateway) -> None:
    survey_id = gateway.trigger()["id"]
    gateway.text("4")
    assert gateway.survey(survey_id)["handoff"] is None


def test_a_text_after_the_handoff_gets_a_reminder_with_the_link_and_is_no_answer(
    gateway: Gateway,
) -> None:
    survey_id, handoff = hand_off(gateway)
    (reminder,) = replies(gateway.text("1"))
    assert reminder.startswith("This survey continues on the web. To finish it, open this link:")
    assert link_path(reminder) == link_path(handoff)
    assert gateway.survey(survey_id)["answers"] == {"satisfied": 4, "returning": "yes"}
    assert "What could we do better?" in text(open_link(gateway, reminder))


def test_a_start_keyword_after_the_handoff_starts_its_flow(gateway: Gateway) -> None:
    survey_id, _ = hand_off(gateway)
    (poll,) = replies(gateway.text("POLL"))
    assert poll.startswith("Was it easy to find what you needed?")
    assert gateway.status_of(survey_id) == "cancelled"


def test_going_back_on_the_web_shows_the_answer_given_by_text(gateway: Gateway) -> None:
    _, handoff = hand_off(gateway)
    page = open_link(gateway, handoff)
    back = follow(gateway.client, page_form(page).submit(gateway.client, action="back"))
    html = text(back)
    assert "Would you come back?" in html
    assert re.search(r'value="yes" checked', html)


def test_a_handoff_at_the_first_question_sends_the_link_in_the_opening_text(
    gateway: Gateway,
) -> None:
    survey_id = gateway.trigger(flow="application-review")["id"]
    (opening,) = gateway.survey(survey_id)["messages"]
    assert opening["body"].startswith("To answer the rest, open this link:")
    page = gateway.client.get(link_path(opening["body"]))
    assert "Describe each step of your application" in text(page)
    assert gateway.rows(Survey, Survey.id == survey_id)[0].status == "started"


def test_a_start_keyword_for_a_flow_opening_with_a_handoff_replies_with_the_link(
    gateway: Gateway,
) -> None:
    (opening,) = replies(gateway.text("APPLY"))
    assert opening.startswith("To answer the rest, open this link:")
    assert "Describe each step" in text(gateway.client.get(link_path(opening)))
