"""The page where an email respondent writes back (``/r/<token>``) passes axe-core's WCAG
2.0/2.1 A and AA rules in headless Chromium, in English and in Spanish, in each of its
states, and is answered with the keyboard alone."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from channels.email import SimulatedEmail
from gateway.services.providers import providers_of
from gateway.store.db import db_of
from gateway.surveys.links import links_of
from tests.browser.conftest import Served, axe_violations, browser
from tests.cases.conftest import CASE_FLOW, answer_survey, api, cases_of
from tests.sms.support import FLOWS, Gateway, make_gateway

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]


def _reply_path(gateway: Gateway, language: str) -> str:
    survey_id = answer_survey(gateway, "1", "yes", channel="email", language=language)
    (case,) = cases_of(gateway, survey_id)
    gateway.client.post(
        f"/api/v1/cases/{case.id}/replies", json={"template": "apology"}, headers=api(gateway)
    )
    email = providers_of(gateway.app).email
    assert isinstance(email, SimulatedEmail)
    found = re.search(r"(/r/[A-Za-z0-9_.\-]+)", email.sent[-1].email.text)
    assert found is not None
    return found[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, str]]]:
    tmp: Path = tmp_path_factory.mktemp("reply-page")
    flows = tmp / "flows"
    flows.mkdir()
    for source in FLOWS.iterdir():
        (flows / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (flows / "office-followup.yaml").write_text(CASE_FLOW, encoding="utf-8")
    gateway = make_gateway(f"sqlite:///{tmp / 'gateway.sqlite3'}", flows_dir=flows)
    paths = {"en": _reply_path(gateway, "en"), "es": _reply_path(gateway, "es")}
    closed = _reply_path(gateway, "es")
    survey_id = links_of(gateway.app).read("reply", closed.split("/")[2]).survey_id
    (case,) = cases_of(gateway, survey_id)
    gateway.client.patch(
        f"/api/v1/cases/{case.id}",
        json={"status": "resolved", "resolution": "fixed"},
        headers=api(gateway),
    )
    paths["closed"] = closed
    past = datetime.now(UTC) - timedelta(days=1)
    paths["expired"] = f"/r/{links_of(gateway.app).make('reply', survey_id, past)}"
    server = make_server("127.0.0.1", 0, gateway.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(gateway.app, f"http://127.0.0.1:{server.server_port}"), paths
    finally:
        server.shutdown()
        thread.join(timeout=5)
        db_of(gateway.app).dispose()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def _check(page: Any, where: str) -> None:
    assert page.locator("h1").count() == 1, where
    assert axe_violations(page) == [], where


def _send(page: Any) -> None:
    with page.expect_navigation():
        page.click("button[type=submit]")


@pytest.mark.parametrize("language", ["en", "es"])
def test_each_state_of_the_reply_page_has_no_axe_violations(
    page: Any, served: tuple[Served, dict[str, str]], language: str
) -> None:
    base, paths = served[0].base_url, served[1]
    page.goto(base + paths[language])
    assert page.locator("html").get_attribute("lang") == language
    _check(page, f"{language} form")
    _send(page)  # nothing written: the error state
    assert page.locator("#error-summary").count() == 1
    assert page.locator("#answer").get_attribute("aria-invalid") == "true"
    _check(page, f"{language} error state")
    page.fill("#answer", "La espera fue larga" if language == "es" else "The wait was long")
    _send(page)
    _check(page, f"{language} sent")


@pytest.mark.parametrize("state", ["closed", "expired"])
def test_a_closed_case_and_an_expired_link_have_no_axe_violations(
    page: Any, served: tuple[Served, dict[str, str]], state: str
) -> None:
    page.goto(served[0].base_url + served[1][state])
    _check(page, state)


def test_the_answer_is_written_and_sent_with_the_keyboard_alone(
    page: Any, served: tuple[Served, dict[str, str]]
) -> None:
    page.goto(served[0].base_url + served[1]["en"])
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "answer":
            break
    else:
        pytest.fail("the answer box cannot be reached with Tab")
    page.keyboard.type("Sent with the keyboard")
    page.keyboard.press("Tab")  # to the Send button
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Your answer was sent"
