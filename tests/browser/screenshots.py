"""Screenshots for docs/email-and-web.md: the survey email and the web pages, in English
and Spanish, as Chromium draws them on a phone-sized screen.

Run: .venv/bin/python -m tests.browser.screenshots  (writes docs/img/*.png)
"""

from __future__ import annotations

import re
import tempfile
import threading
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from channels.email import SimulatedEmail
from gateway.app import create_app
from gateway.services.providers import providers_of
from gateway.store.db import db_of
from gateway.store.models import Message
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.email.conftest import agency_for, email_settings

OUT = Path(__file__).resolve().parents[2] / "docs" / "img"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    settings = email_settings(Path(tempfile.mkdtemp()), None)
    app = create_app(settings, {"TESTING": True})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    agency = agency_for(app)
    english = agency.trigger()
    agency.trigger(to="ana@example.gov", language="es")
    with db_of(app).session() as session:
        email_text = session.scalars(
            sa.select(Message.body).where(Message.survey_id == english["id"])
        ).one()
    sender = providers_of(app).email
    assert isinstance(sender, SimulatedEmail)
    sent = sender.sent
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        for language, outgoing in zip(("en", "es"), sent, strict=True):
            page.set_content(outgoing.email.html)
            page.screenshot(path=OUT / f"email-{language}.png", full_page=True)
        for language in ("en", "es"):
            page.goto(f"{base}/f/office-visit?location=Downtown&lang={language}")
            page.screenshot(path=OUT / f"web-first-{language}.png", full_page=True)
            page.click("label[for='answer-2']")
            with page.expect_navigation():
                page.click("button[value=next]")
            with page.expect_navigation():
                page.click("button[value=next]")
            page.screenshot(path=OUT / f"web-error-{language}.png", full_page=True)
        answer = re.search(r"https://gateway\.example\.gov(/a/\S+)", email_text)
        assert answer is not None
        page.goto(base + answer.group(1))
        page.screenshot(path=OUT / "web-after-email-click-en.png", full_page=True)
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
