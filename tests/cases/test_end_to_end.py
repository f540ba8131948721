"""The whole loop in a real browser: an SMS respondent scores 1 and consents; a case opens
with its due time; an analyst assigns it to themself and replies from a template; the
respondent's phone (the Twilio double) receives the text; their answer appears in the
case; the analyst resolves it; the figures show one case resolved in time. Then the same
by email: the respondent writes back on the page the reply email links to."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from channels.email import SimulatedEmail
from gateway.agencies.keys import ensure_agency
from gateway.cases.due import add_business_days
from gateway.dashboard.auth import create_staff
from gateway.services.providers import providers_of
from gateway.store.db import db_of
from tests.browser.conftest import browser
from tests.cases.conftest import ANALYST, CASE_FLOW, PASSWORD, answer_survey, api, cases_of
from tests.sms.support import FLOWS, RESPONDENT, Gateway, make_gateway
from tests.support.twilio_double import TwilioDouble

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]

APOLOGY = "We are sorry about your visit to Downtown. What went wrong?"


@pytest.fixture
def double() -> Iterator[TwilioDouble]:
    server = TwilioDouble()
    yield server
    server.close()


@pytest.fixture
def served(tmp_path: Path, double: TwilioDouble) -> Iterator[tuple[Gateway, str]]:
    flows = tmp_path / "flows"
    flows.mkdir()
    for source in FLOWS.iterdir():
        (flows / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (flows / "office-followup.yaml").write_text(CASE_FLOW, encoding="utf-8")
    gateway = make_gateway(
        f"sqlite:///{tmp_path / 'gateway.sqlite3'}",
        flows_dir=flows,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="auth-token",
        twilio_phone_number="+12025550100",
        twilio_api_base_url=double.url,
    )
    with db_of(gateway.app).session() as session:
        create_staff(session, ensure_agency(session, "dmv"), ANALYST, PASSWORD, role="analyst")
    server = make_server("127.0.0.1", 0, gateway.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        db_of(gateway.app).dispose()


def _sign_in(browser: Any, base: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/dashboard/login")
    page.fill("#email", ANALYST)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def _submit(page: Any, button: str) -> None:
    with page.expect_navigation():
        page.click(f"button:has-text('{button}')")


def _work_the_case(page: Any, base: str, case_id: str) -> None:
    page.goto(f"{base}/dashboard/cases")
    with page.expect_navigation():
        page.click(f"a:has-text('{case_id}')")
    page.select_option("#assignee", "me")
    _submit(page, "Assign")
    page.select_option("#template", "apology")
    _submit(page, "Send the reply")
    assert page.locator("dd", has_text=ANALYST).count() == 1


def _resolve(page: Any) -> None:
    page.select_option("#status", "resolved")
    page.select_option("#resolution", "fixed")
    _submit(page, "Change status")


def _resolved_in_time(page: Any, base: str) -> str:
    page.goto(f"{base}/dashboard/cases/figures")
    row = page.locator("table:has(caption:text-is('By flow')) tr", has_text="office-followup")
    return str(row.locator("td").nth(3).inner_text())


def test_an_sms_respondent_is_answered_and_the_case_resolved_in_time(
    browser: Any, served: tuple[Gateway, str], double: TwilioDouble
) -> None:
    gateway, base = served
    survey = gateway.trigger(flow="office-followup", context={"office": "Downtown"})
    gateway.text("1")
    gateway.text("yes")
    assert gateway.status_of(survey["id"]) == "completed"
    (case,) = cases_of(gateway, survey["id"])
    assert case.due_at == add_business_days(case.opened_at, 2)

    page = _sign_in(browser, base)
    _work_the_case(page, base, case.id)
    assert (RESPONDENT, APOLOGY) in [(m.to, m.body) for m in double.delivered()]

    gateway.text("The clerk at window 4 was rude")
    page.reload()
    assert page.locator("blockquote", has_text="The clerk at window 4 was rude").count() == 1
    _resolve(page)
    assert page.locator("dd", has_text="resolved (fixed)").count() == 1
    assert _resolved_in_time(page, base) == "1 (100.0%)"


def test_an_email_respondent_writes_back_and_the_case_is_resolved(
    browser: Any, served: tuple[Gateway, str]
) -> None:
    gateway, base = served
    survey_id = answer_survey(gateway, "1", "yes", channel="email")
    (case,) = cases_of(gateway, survey_id)
    page = _sign_in(browser, base)
    _work_the_case(page, base, case.id)
    email = providers_of(gateway.app).email
    assert isinstance(email, SimulatedEmail)
    (sent,) = [r.email for r in email.sent if r.email.text.startswith(APOLOGY)]
    assert sent.to == "a@example.com"
    link = re.search(r"https://gateway\.example\.gov(/r/\S+)", sent.text)
    assert link is not None, sent.text

    respondent = browser.new_context().new_page()
    respondent.goto(base + link[1])
    assert respondent.locator("p", has_text=APOLOGY).count() == 1
    respondent.fill("#answer", "Nobody told me the office had moved")
    _submit(respondent, "Send your answer")
    assert respondent.locator("h1").inner_text() == "Your answer was sent"

    page.reload()
    answer = page.locator("li", has=page.locator("blockquote", has_text="office had moved"))
    assert "respondent · answer" in answer.inner_text()
    _resolve(page)
    detail = gateway.client.get(f"/api/v1/cases/{case.id}", headers=api(gateway)).get_json()
    assert detail["status"] == "resolved"
    assert [h["body"] for h in detail["history"] if h["kind"] == "answer"] == [
        "Nobody told me the office had moved"
    ]
