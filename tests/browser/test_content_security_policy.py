"""The web survey and dashboard pages work under the Content-Security-Policy in Chromium:
nothing they need is refused, and a script injected into a page does not run."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.agencies.keys import ensure_agency
from gateway.dashboard.auth import create_staff
from gateway.store.db import db_of
from tests.browser.conftest import Served

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "csp@demo.example.gov"
PASSWORD = "correct horse battery"

INJECT = """() => {
    const script = document.createElement("script");
    script.textContent = "window.injected = true";
    document.body.appendChild(script);
    return window.injected === true;
}"""


def refusals(page: Any) -> list[str]:
    """Collects Chromium's console reports of anything the policy refused."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def test_a_web_survey_runs_to_its_next_question_with_nothing_refused(
    served: Served, page: Any
) -> None:
    refused = refusals(page)
    page.goto(f"{served.base_url}/f/a11-seven-drivers?location=main-office")
    first = page.locator("input[name=answer]").first
    page.click(f"label[for='{first.get_attribute('id')}']")
    with page.expect_navigation():
        page.click("button[value=next]")
    assert "Question 2" in page.inner_text("main")
    assert refused == []


def test_the_sign_in_page_loads_with_nothing_refused(served: Served, page: Any) -> None:
    refused = refusals(page)
    page.goto(f"{served.base_url}/dashboard/login")
    assert page.locator("#email").is_visible()
    assert refused == []


def test_a_script_injected_into_a_page_does_not_run(served: Served, page: Any) -> None:
    refused = refusals(page)
    page.goto(f"{served.base_url}/dashboard/login")
    assert page.evaluate(INJECT) is False
    assert any("script-src" in text for text in refused)


def test_the_signed_in_dashboard_pages_load_with_nothing_refused(served: Served, page: Any) -> None:
    with db_of(served.app).session() as session:
        create_staff(session, ensure_agency(session, "demo"), EMAIL, PASSWORD)
    refused = refusals(page)
    page.goto(f"{served.base_url}/dashboard/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    for path in ("/dashboard/", "/dashboard/flows/office-visit", "/dashboard/deliveries"):
        page.goto(f"{served.base_url}{path}")
        assert page.locator("h1").count() == 1, path
    assert refused == []
