"""The dashboard's contact-attempt section passes axe-core's WCAG 2.0/2.1 A and AA rules
in headless Chromium, with real attempts behind it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from gateway.agencies.keys import ensure_agency
from gateway.dashboard.auth import create_staff
from gateway.sending.sweeper import sweep
from gateway.store.db import db_of
from tests.browser.conftest import Served, axe_violations, browser
from tests.reach.contact_plan import FLOW, age, reach_gateway

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]

EMAIL = "analyst@dmv.example.gov"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp: Path = tmp_path_factory.mktemp("attempts")
    gw = reach_gateway(f"sqlite:///{tmp / 'gateway.sqlite3'}")
    answered = gw.trigger(flow=FLOW, to="+12025550141")["id"]
    gw.text("5", from_="+12025550141")
    reminded = gw.trigger(flow=FLOW, to="+12025550142")["id"]
    for survey_id in (answered, reminded):
        age(gw, survey_id, timedelta(hours=4, minutes=1))
    sweep(gw.app)
    with db_of(gw.app).session() as session:
        create_staff(session, ensure_agency(session, "dmv"), EMAIL, PASSWORD)
    server = make_server("127.0.0.1", 0, gw.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(gw.app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=5)
        db_of(gw.app).dispose()


def test_the_attempt_section_has_no_axe_violations(browser: Any, served: Served) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{served.base_url}/dashboard/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{served.base_url}/dashboard/flows/{FLOW}")
    table = page.locator("table", has=page.locator("caption", has_text="Response rate per attempt"))
    assert table.locator("tbody tr").count() == 2  # first contact, reminder
    assert axe_violations(page) == []
    context.close()
