"""Every page of every shipped flow, in each of its languages, passes axe-core's WCAG 2.0
and 2.1 A/AA rules in Chromium; a survey can be finished with the keyboard alone; errors
are tied to their fields and take the focus."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.flows.registry import FlowRegistry
from tests.browser.conftest import Served, axe_violations
from tests.conftest import SHIPPED_FLOWS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WEB_FLOWS = [
    (flow.id, language)
    for flow in sorted(
        FlowRegistry.load_directory(SHIPPED_FLOWS).flows.values(), key=lambda f: f.id
    )
    if "web" in flow.channels
    for language in flow.languages
]


def _answer_current(page: Any) -> None:
    """Give the first answer the page offers (the lowest rating reaches the most questions)."""
    choice = page.locator("input[name=answer][type=radio], input[name=answer][type=checkbox]")
    if choice.count():
        # USWDS draws the label; the input itself sits off screen.
        page.click(f"label[for='{choice.first.get_attribute('id')}']")
    elif page.locator("input#answer").count():
        page.fill("input#answer", "1")
    else:
        page.fill("textarea#answer", "Thank you.")
    _submit(page)


def _submit(page: Any, button: str = "button[value=next]") -> None:
    with page.expect_navigation():
        page.click(button)


def _check(page: Any, where: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{where}: {violations}"


@pytest.mark.parametrize(("flow_id", "language"), WEB_FLOWS)
def test_every_page_of_the_flow_has_no_axe_violations(
    served: Served, page: Any, flow_id: str, language: str
) -> None:
    page.goto(f"{served.base_url}/f/{flow_id}?location=main-office&lang={language}")
    assert page.locator("html").get_attribute("lang") == language
    _submit(page)  # nothing chosen: the error state
    assert page.locator("#error-summary").count() == 1
    _check(page, f"{flow_id} error state")
    for screen in range(30):
        if page.locator("form button[value=next]").count() == 0:
            break
        _check(page, f"{flow_id} screen {screen + 1}")
        _answer_current(page)
    else:
        pytest.fail(f"{flow_id}: the survey did not end")
    _check(page, f"{flow_id} thank-you page")


@pytest.mark.parametrize("path", ["/s/not-a-real-token", "/f/no-such-flow", "/simulator"])
def test_message_pages_and_the_simulator_have_no_axe_violations(
    served: Served, page: Any, path: str
) -> None:
    page.goto(served.base_url + path)
    _check(page, path)


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"Tab never reached {selector}")


def test_a_survey_can_be_completed_with_the_keyboard_alone(served: Served, page: Any) -> None:
    page.goto(f"{served.base_url}/f/office-visit?location=kiosk&lang=en")
    _tab_to(page, "input[type=radio]")
    page.keyboard.press("ArrowRight")  # from 1 to 2: arrow keys move within a radio group
    page.keyboard.press("Space")
    _tab_to(page, "button[value=next]")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Question 2 of 4")
    _tab_to(page, "input[type=checkbox]")
    page.keyboard.press("Space")
    _tab_to(page, "button[value=next]")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Question 3 of 4")
    _tab_to(page, "input#answer")
    page.keyboard.type("20")
    page.keyboard.press("Enter")
    page.wait_for_selector("textarea#answer")
    _tab_to(page, "textarea#answer")
    page.keyboard.type("Friendly staff.")
    _tab_to(page, "button[value=next]")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Thank you for your feedback.")


def test_an_error_is_tied_to_its_field_and_focus_moves_to_the_summary(
    served: Served, page: Any
) -> None:
    page.goto(f"{served.base_url}/f/office-visit?location=kiosk&lang=en")
    page.click("label[for='answer-3']")
    _submit(page)
    page.fill("input#answer", "9999")
    _submit(page)
    assert page.evaluate("document.activeElement.id") == "error-summary"
    field = page.locator("input#answer")
    assert field.get_attribute("aria-invalid") == "true"
    described = (field.get_attribute("aria-describedby") or "").split()
    assert "answer-error" in described
    assert page.locator("#answer-error").inner_text().endswith("Enter a number from 0 to 600.")
    page.click("#error-summary a")
    assert page.evaluate("document.activeElement.id") == "answer"


def test_the_pages_work_with_javascript_off(served: Served, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{served.base_url}/f/office-visit?location=kiosk&lang=es")
        page.click("label[for='answer-5']")
        _submit(page)
        page.wait_for_selector("text=Pregunta 2 de 3")
    finally:
        context.close()
