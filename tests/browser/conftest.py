"""Headless Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright against the app
served on 127.0.0.1, with axe-core injected into each page."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from config.settings import Settings
from gateway.app import create_app
from tests.conftest import ROOT, SHIPPED_FLOWS

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / ".cache" / "web" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

playwright_sync = pytest.importorskip("playwright.sync_api")

# `make test` installs both; elsewhere the browser tests are skipped, except in CI, where a
# missing browser is a failure rather than a silent skip.
for _tool, _missing in (
    (CHROMIUM, "Chromium is not installed: apt-get install -y chromium"),
    (AXE, "axe-core is not installed: npm install --prefix .cache/web axe-core@4"),
):
    if not _tool.exists():
        if os.environ.get("CI"):
            raise RuntimeError(_missing)
        pytest.skip(_missing, allow_module_level=True)


@dataclass
class Served:
    app: Flask
    base_url: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("browser")
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'gateway.sqlite3'}",
        secret_key="browser-secret-key",
        secret_key_generated=False,
        flows_dir=SHIPPED_FLOWS,
        environment="test",
    )
    app = create_app(settings, {"TESTING": True, "WEB_ENTRY_LIMIT": 10_000})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=True)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it stands."""
    # Evaluated, not added as a <script>: the Content-Security-Policy blocks inline scripts.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in result["violations"]
    ]
