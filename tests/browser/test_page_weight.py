"""What a respondent's browser downloads: a first visit to a web survey page stays within
100 KB over the wire, compressed where it helps; the next question downloads its HTML
and nothing else (stylesheets, fonts and images come from the browser's cache)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.browser.conftest import Served

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIRST_VISIT_BUDGET = 100 * 1024


@dataclass
class Wire:
    """The responses Chromium received, as the DevTools protocol reports them."""

    received: dict[str, int] = field(default_factory=dict)  # request id -> bytes, headers in
    urls: dict[str, str] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)
    from_cache: set[str] = field(default_factory=set)

    def downloaded(self) -> list[str]:
        """URLs fetched over the network (not from the browser's cache)."""
        return [self.urls[rid] for rid in self.received if rid not in self.from_cache]


def watch(page: Any) -> Wire:
    wire = Wire()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")

    def responded(event: dict[str, Any]) -> None:
        response = event["response"]
        headers = {name.lower(): value for name, value in response["headers"].items()}
        wire.urls[event["requestId"]] = response["url"]
        wire.encodings[response["url"]] = headers.get("content-encoding", "")
        if response.get("fromDiskCache") or response.get("fromMemoryCache"):
            wire.from_cache.add(event["requestId"])

    cdp.on("Network.responseReceived", responded)
    cdp.on("Network.requestServedFromCache", lambda e: wire.from_cache.add(e["requestId"]))
    cdp.on(
        "Network.loadingFinished",
        lambda e: wire.received.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    return wire


def test_a_first_visit_to_a_survey_page_transfers_at_most_100_kb(served: Served, page: Any) -> None:
    wire = watch(page)
    page.goto(f"{served.base_url}/f/office-visit?location=main-office", wait_until="load")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").is_visible()
    loaded_fonts = page.evaluate(
        "() => [...document.fonts].filter(f => f.status === 'loaded').length"
    )
    total = sum(wire.received.values())
    listing = "\n".join(f"{wire.received[rid]:>8} {url}" for rid, url in wire.urls.items())
    assert total <= FIRST_VISIT_BUDGET, f"{total} bytes:\n{listing}"
    assert loaded_fonts >= 2  # the page is drawn in its own fonts, not a fallback
    stylesheets = [url for url in wire.urls.values() if url.endswith(".css")]
    assert len(stylesheets) == 2
    for url in stylesheets:
        assert wire.encodings[url] == "br", url
    survey_page = next(url for url in wire.urls.values() if "/s/" in url)
    assert wire.encodings[survey_page] == "br"


def test_the_next_question_downloads_only_its_html(served: Served, page: Any) -> None:
    page.goto(f"{served.base_url}/f/office-visit?location=main-office", wait_until="load")
    page.wait_for_load_state("networkidle")
    wire = watch(page)
    first = page.locator("input[name=answer]").first
    page.click(f"label[for='{first.get_attribute('id')}']")
    with page.expect_navigation():
        page.click("button[value=next]")
    page.wait_for_load_state("networkidle")
    assert "Question 2" in page.inner_text("main")
    downloaded = wire.downloaded()
    assert downloaded, "the next question's page itself was downloaded"
    assert all("/s/" in url for url in downloaded), downloaded
