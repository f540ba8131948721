"""Screenshots for docs/cases.md: the case inbox, a case page and the case figures, as
Chromium draws them, over a few made-up cases.

Run: .venv/bin/python -m tests.cases.screenshots  (writes docs/img/cases-*.png)
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from gateway.agencies.keys import ensure_agency
from gateway.dashboard.auth import create_staff
from gateway.store.db import db_of
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.cases.conftest import ANALYST, CASE_FLOW, PASSWORD, answer_survey, api
from tests.sms.support import FLOWS, make_gateway

OUT = Path(__file__).resolve().parents[2] / "docs" / "img"


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    flows = tmp / "flows"
    flows.mkdir()
    for source in FLOWS.iterdir():
        (flows / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (flows / "office-followup.yaml").write_text(CASE_FLOW, encoding="utf-8")
    gateway = make_gateway(f"sqlite:///{tmp / 'gateway.sqlite3'}", flows_dir=flows)
    with db_of(gateway.app).session() as session:
        create_staff(session, ensure_agency(session, "dmv"), ANALYST, PASSWORD, role="analyst")
    for score, consent, language in [("1", "yes", "en"), ("2", "no", "es"), ("1", "yes", "es")]:
        answer_survey(gateway, score, consent, language=language)
    listed = gateway.client.get("/api/v1/cases?view=all", headers=api(gateway)).get_json()
    first = listed["data"][0]["id"]
    gateway.client.patch(
        f"/api/v1/cases/{first}",
        json={"assignee": ANALYST, "note": "Called the Downtown office manager."},
        headers=api(gateway),
    )
    gateway.client.post(
        f"/api/v1/cases/{first}/replies", json={"template": "apology"}, headers=api(gateway)
    )
    gateway.text("The line was long and nobody told us why.")
    server = make_server("127.0.0.1", 0, gateway.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/dashboard/login")
        page.fill("#email", ANALYST)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.goto(f"{base}/dashboard/cases?view=all")
        page.screenshot(path=OUT / "cases-inbox.png", full_page=True)
        page.goto(f"{base}/dashboard/cases/{first}")
        page.screenshot(path=OUT / "cases-case.png", full_page=True)
        page.goto(f"{base}/dashboard/cases/figures?from=2026-10-01&to=2026-10-31")
        page.screenshot(path=OUT / "cases-figures.png", full_page=True)
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
