"""The web page of a survey handed off from SMS says the text answers are saved."""

from __future__ import annotations

from dataclasses import replace

from gateway.engine.engine import new_state, step
from gateway.engine.types import Event, SessionState
from gateway.flows.model import Flow, Question
from gateway.web.pages import question_page

RATING = Question(id="satisfied", type="rating", prompt={"en": "Satisfied?"})
COMMENT = Question(id="comment", type="text", optional=True, prompt={"en": "Anything else?"})
LAST = Question(id="returning", type="yesno", prompt={"en": "Would you come back?"})
FLOW = Flow(
    id="handoff",
    version=1,
    title={"en": "Hand-off"},
    agency="demo",
    questions=(RATING, replace(COMMENT, handoff="web"), LAST),
)
SAVED = "Thank you for your answers by text message. They are saved. Please answer the rest here."


def after(channel: str, *events: Event) -> SessionState:
    state = step(FLOW, new_state(FLOW, channel, "en", {}), Event("start")).state
    for event in events:
        state = step(FLOW, state, event).state
    return state


def test_the_handed_off_question_says_the_text_answers_are_saved() -> None:
    page = question_page(FLOW, after("sms", Event("text", "4")))
    assert page.question_id == "comment" and page.continued == SAVED
    assert (page.current, page.total) == (2, 3)
    assert page.notice is None and page.can_go_back


def test_the_next_web_question_says_nothing_more_about_texts() -> None:
    page = question_page(FLOW, after("sms", Event("text", "4"), Event("text", "Fine")))
    assert page.question_id == "returning" and page.continued is None


def test_a_survey_started_on_the_web_asks_the_question_without_the_note() -> None:
    page = question_page(FLOW, after("web", Event("text", "4")))
    assert page.question_id == "comment" and page.continued is None
