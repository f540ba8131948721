"""Every dashboard page passes axe-core's WCAG 2.0/2.1 A and AA rules in headless Chromium
(the survey pages' harness), and works with JavaScript off."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from werkzeug.serving import make_server

from config.settings import Settings
from gateway.agencies.keys import ensure_agency
from gateway.app import create_app
from gateway.dashboard.auth import create_staff
from gateway.store.db import db_of
from gateway.surveys import comment_arrival
from gateway.surveys.comment_backfill import backfill
from tests.browser.conftest import Served, axe_violations, browser
from tests.support.results import FLOWS, survey_adder

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]

EMAIL = "analyst@dmv.example.gov"
PASSWORD = "correct horse battery"
PAGES = [
    "/dashboard/",
    "/dashboard/flows/visit-v2",
    "/dashboard/flows/visit-v2?channel=sms&from=2026-10-01",
    "/dashboard/flows/call-drivers",
    "/dashboard/flows/visit-v2/comments",
    "/dashboard/flows/visit-v2/comments?q=café",
    "/dashboard/deliveries",
    "/dashboard/flows/visit-v2/themes?from=2026-09-01&to=2026-12-31",
    "/dashboard/flows/visit-v2/themes/comments?from=2026-09-01&to=2026-12-31",
    "/dashboard/flows/no-such-flow",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("dashboard")
    flows = tmp / "flows"
    flows.mkdir()
    for name, text in FLOWS.items():
        (flows / name).write_text(text, encoding="utf-8")
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'gateway.sqlite3'}",
        secret_key="browser-secret-key",
        secret_key_generated=False,
        flows_dir=flows,
        environment="test",
    )
    app = create_app(settings, {"TESTING": True})
    _seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=5)
        db_of(app).dispose()


def _seed(app: Any) -> None:
    add = survey_adder(app)
    when = datetime(2026, 10, 2, 9, tzinfo=UTC)
    add("visit-v2", when, answers={"trust": "yes", "went_well": ["ease"], "comment": "Quick"},
        context={"office": "Main"})  # fmt: skip
    add("visit-v2", when, answers={"trust": "no", "comment": "Le café était froid"},
        context={"office": "North", "location": "kiosk-1"}, channel="web")  # fmt: skip
    add("call-drivers", when, answers={"satisfied": 4, "confidence": 5, "easy": 2})
    with db_of(app).session() as session:
        create_staff(session, ensure_agency(session, "dmv"), EMAIL, PASSWORD)
    with db_of(app).session() as session:  # the comments' themes, for the themes pages
        backfill(session, comment_arrival.current_reader(), now=when)


def _sign_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/dashboard/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


@pytest.fixture
def signed_in(browser: Any, served: Served) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, served.base_url)
    try:
        yield page
    finally:
        context.close()


def test_the_sign_in_page_has_no_axe_violations(browser: Any, served: Served) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{served.base_url}/dashboard/login")
    assert axe_violations(page) == []
    page.fill("#email", EMAIL)
    page.fill("#password", "wrong password!")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.locator("#login-error").count() == 1
    assert axe_violations(page) == []
    context.close()


@pytest.mark.parametrize("path", PAGES)
def test_each_dashboard_page_has_no_axe_violations(
    signed_in: Any, served: Served, path: str
) -> None:
    signed_in.goto(served.base_url + path)
    assert signed_in.locator("h1").count() >= 1
    assert axe_violations(signed_in) == [], path


def test_the_dashboard_works_with_javascript_off(browser: Any, served: Served) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, served.base_url)
    page.goto(f"{served.base_url}/dashboard/flows/visit-v2")
    page.select_option("#filter-channel", "web")
    with page.expect_navigation():
        page.click("text=Apply filters")
    assert "channel=web" in page.url
    assert page.locator("table caption", has_text="By office").count() == 1
    context.close()
