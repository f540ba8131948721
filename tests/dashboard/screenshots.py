"""Screenshots for docs/results.md: the dashboard's flow page and comments page, as
Chromium draws them, over a few weeks of made-up surveys.

Run: .venv/bin/python -m tests.dashboard.screenshots  (writes docs/img/dashboard-*.png)
"""

from __future__ import annotations

import random
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from config.settings import Settings
from gateway.agencies.keys import ensure_agency
from gateway.app import create_app
from gateway.dashboard.auth import create_staff
from gateway.store.db import db_of
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.support.results import FLOWS, survey_adder

OUT = Path(__file__).resolve().parents[2] / "docs" / "img"
EMAIL = "analyst@dmv.example.gov"
PASSWORD = "correct horse battery"
COMMENTS = ["Quick and friendly", "Long wait at the counter", "Clear instructions", "Café closed"]


def _seed(app: object) -> None:
    add = survey_adder(app)  # type: ignore[arg-type]
    rng = random.Random(7)
    start = datetime(2026, 10, 1, 9, tzinfo=UTC)
    for _ in range(240):
        when = start + timedelta(hours=rng.randrange(0, 24 * 50))
        trust = rng.random() < 0.7
        status = rng.choices(["completed", "started", "sent", "opted_out"], [6, 1, 2, 0.3])[0]
        answers: dict[str, object] = {}
        if status in ("completed", "started"):
            answers["trust"] = "yes" if trust else "no"
            drivers = ["ease", "efficiency", "employee", "effectiveness"]
            key = "went_well" if trust else "went_poorly"
            if key == "went_well":
                answers[key] = rng.sample(drivers, rng.randint(1, 2))
            if status == "completed" and rng.random() < 0.4:
                answers["comment"] = rng.choice(COMMENTS)
        add(
            "visit-v2",
            when,
            status=status,
            channel=rng.choice(["sms", "sms", "voice", "web"]),
            language=rng.choice(["en", "en", "es"]),
            answers=answers,
            context={"office": rng.choice(["Main", "North", "Airport"])},
        )
    with db_of(app).session() as session:  # type: ignore[arg-type]
        create_staff(session, ensure_agency(session, "dmv"), EMAIL, PASSWORD)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    flows = tmp / "flows"
    flows.mkdir()
    for name, text in FLOWS.items():
        (flows / name).write_text(text, encoding="utf-8")
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'gateway.sqlite3'}",
        secret_key="screenshot-secret-key",
        secret_key_generated=False,
        flows_dir=flows,
        environment="test",
    )
    app = create_app(settings, {"TESTING": True})
    _seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/dashboard/login")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.goto(f"{base}/dashboard/flows/visit-v2?from=2026-10-01&to=2026-11-30")
        page.screenshot(path=OUT / "dashboard-flow.png", full_page=True)
        page.goto(f"{base}/dashboard/flows/visit-v2/comments?from=2026-10-01&to=2026-11-30")
        page.screenshot(path=OUT / "dashboard-comments.png", full_page=True)
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
