"""The case inbox and case pages pass axe-core's WCAG 2.0/2.1 A and AA rules in headless
Chromium, for an English and a Spanish respondent, and are worked with the keyboard alone."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from gateway.agencies.keys import ensure_agency
from gateway.dashboard.auth import create_staff
from gateway.store.case_models import Case
from gateway.store.db import db_of
from tests.browser.conftest import Served, axe_violations, browser
from tests.cases.conftest import ANALYST, CASE_FLOW, PASSWORD, VIEWER, answer_survey
from tests.sms.support import FLOWS, make_gateway

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, list[str]]]:
    tmp: Path = tmp_path_factory.mktemp("cases")
    flows = tmp / "flows"
    flows.mkdir()
    for source in FLOWS.iterdir():
        (flows / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (flows / "office-followup.yaml").write_text(CASE_FLOW, encoding="utf-8")
    gateway = make_gateway(f"sqlite:///{tmp / 'gateway.sqlite3'}", flows_dir=flows)
    with db_of(gateway.app).session() as session:
        dmv = ensure_agency(session, "dmv")
        create_staff(session, dmv, ANALYST, PASSWORD, role="analyst")
        create_staff(session, dmv, VIEWER, PASSWORD, role="viewer")
    answer_survey(gateway, "1", "yes")
    answer_survey(gateway, "2", "yes", language="es")
    with db_of(gateway.app).session() as session:
        ids = list(session.scalars(sa.select(Case.id).order_by(Case.language)))
    server = make_server("127.0.0.1", 0, gateway.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(gateway.app, f"http://127.0.0.1:{server.server_port}"), ids
    finally:
        server.shutdown()
        thread.join(timeout=5)
        db_of(gateway.app).dispose()


def _signed_in(browser: Any, base: str, email: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.goto(f"{base}/dashboard/login")
    tab.fill("#email", email)
    tab.fill("#password", PASSWORD)
    with tab.expect_navigation():
        tab.click("button[type=submit]")
    return context, tab


@pytest.fixture
def page(browser: Any, served: tuple[Served, list[str]]) -> Iterator[Any]:
    context, tab = _signed_in(browser, served[0].base_url, ANALYST)
    try:
        yield tab
    finally:
        context.close()


@pytest.mark.parametrize("which", [0, 1])
def test_a_viewers_case_page_without_the_words_has_no_axe_violations(
    browser: Any, served: tuple[Served, list[str]], which: int
) -> None:
    context, tab = _signed_in(browser, served[0].base_url, VIEWER)
    try:
        tab.goto(f"{served[0].base_url}/dashboard/cases/{served[1][which]}")
        assert tab.locator("#words-withheld").count() == 1
        assert axe_violations(tab) == []
    finally:
        context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/cases",
        "/dashboard/cases?view=overdue",
        "/dashboard/cases?view=all&priority=high&channel=sms",
        "/dashboard/cases/{en}",
        "/dashboard/cases/{es}",
        "/dashboard/cases/{en}?error=a+resolved+case+needs+a+resolution",
        "/dashboard/cases/cs_unknown",
        "/dashboard/cases/figures?from=2026-10-01&to=2026-10-31",
    ],
)
def test_each_case_page_has_no_axe_violations(
    page: Any, served: tuple[Served, list[str]], path: str
) -> None:
    en, es = served[1]
    page.goto(served[0].base_url + path.format(en=en, es=es))
    assert page.locator("h1").count() == 1
    assert axe_violations(page) == [], path


def test_a_case_is_assigned_with_the_keyboard_alone(
    page: Any, served: tuple[Served, list[str]]
) -> None:
    en = served[1][0]
    page.goto(f"{served[0].base_url}/dashboard/cases/{en}")
    page.focus("#assignee")
    page.keyboard.press("Tab")  # to the Assign button
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("dd", has_text=ANALYST).count() == 1
