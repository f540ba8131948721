"""A respondent's first visit to a web survey page, in headless Chromium: the bytes it
transfers, and how soon the question shows on a slow mobile network; against a baseline
checkout measured in the same run.

For each tree (this checkout and, with ``--baseline``, another one with its own ``.venv``),
gunicorn on a throwaway PostgreSQL database, with Redis, as in bench/web_pages.py, and
surveys opened through the public entry. Each run opens a survey's page (``/s/<token>``,
the link a text or an email carries) in a new browser context (an empty cache) with the
network throttled through the DevTools protocol (``Network.emulateNetworkConditions``: by
default 1.6 Mbit/s down, 750 kbit/s up, 150 ms latency), and records:

- the bytes received for every request of the page (``encodedDataLength``: compressed
  bodies and headers, as over the wire) and the number of requests;
- first contentful paint, and when the question itself is painted: the page's ``<h1>`` is
  marked for the Element Timing API as the parser inserts it (a script the DevTools
  protocol adds before the page's own; the page is not changed);
- the load event; and, once per tree, axe-core's WCAG 2.0/2.1 A/AA violations.

Runs alternate between the trees; figures are medians of ``--runs`` runs.

    .venv/bin/python bench/web_first_visit.py [--baseline /tmp/old] [--runs 5]

Needs Chromium (/usr/bin/chromium), axe-core (``make test-tools``), and PostgreSQL
(TEST_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from bench.web_pages import Tree, deployed_env, gunicorn, open_surveys, redis_prefix  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / ".cache" / "web" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: Marks the page's first <h1> for the Element Timing API as soon as it is parsed, and
#: keeps the time it is first painted.
MARK_QUESTION = """
window.questionPainted = null;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.identifier === "question") window.questionPainted = entry.renderTime;
  }
}).observe({type: "element", buffered: true});
new MutationObserver((records, observer) => {
  const heading = document.querySelector("h1");
  if (heading) {
    heading.setAttribute("elementtiming", "question");
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""
TIMINGS = """() => ({
  fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
  question: window.questionPainted,
  load: performance.getEntriesByType("navigation")[0].loadEventEnd,
})"""


@dataclass(frozen=True)
class Visit:
    """One first visit: bytes received, requests, and times (ms from navigation start)."""

    received: int
    requests: int
    fcp_ms: float
    question_ms: float
    load_ms: float
    resources: list[tuple[str, int, str]]


def visit(browser: Browser, url: str, network: dict[str, Any] | None) -> Visit:
    """Open ``url`` in a new context (nothing cached), throttled by ``network``."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.add_init_script(MARK_QUESTION)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        if network is not None:
            cdp.send("Network.emulateNetworkConditions", network)
        names: dict[str, tuple[str, str]] = {}
        received: dict[str, int] = {}

        def responded(event: dict[str, Any]) -> None:
            headers = {k.lower(): v for k, v in event["response"]["headers"].items()}
            names[event["requestId"]] = (
                event["response"]["url"],
                headers.get("content-encoding", "-"),
            )

        def finished(event: dict[str, Any]) -> None:
            received[event["requestId"]] = int(event["encodedDataLength"])

        cdp.on("Network.responseReceived", responded)
        cdp.on("Network.loadingFinished", finished)
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        page.wait_for_function("window.questionPainted !== null", timeout=10_000)
        times = page.evaluate(TIMINGS)
        resources = [(*names.get(rid, ("?", "-")), size) for rid, size in received.items()]
        return Visit(
            received=sum(received.values()),
            requests=len(received),
            fcp_ms=float(times["fcp"]),
            question_ms=float(times["question"]),
            load_ms=float(times["load"]),
            resources=[(url, size, encoding) for url, encoding, size in resources],
        )
    finally:
        context.close()


def axe_violations(browser: Browser, url: str) -> list[str]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on ``url`` (their rule ids)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.evaluate(AXE.read_text(encoding="utf-8"))
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
        )
        return [violation["id"] for violation in result["violations"]]
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout with its own .venv")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--down-kbps", type=float, default=1600)
    parser.add_argument("--up-kbps", type=float, default=750)
    parser.add_argument("--latency-ms", type=float, default=150)
    args = parser.parse_args()
    if not AXE.exists():
        raise SystemExit(f"axe-core is missing ({AXE}): make test-tools")
    network = {
        "offline": False,
        "latency": args.latency_ms,
        "downloadThroughput": args.down_kbps * 1000 / 8,
        "uploadThroughput": args.up_kbps * 1000 / 8,
    }
    trees = [Tree("current", ROOT)]
    if args.baseline is not None:
        trees.insert(0, Tree("baseline", args.baseline.resolve()))
    visits: dict[str, list[Visit]] = {tree.name: [] for tree in trees}
    violations: dict[str, list[str]] = {}
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(loadgen.scratch_dir()))
        servers: dict[str, tuple[str, list[str]]] = {}
        for tree in trees:
            database = stack.enter_context(loadgen.throwaway_database())
            env = deployed_env(database, tree, stack.enter_context(redis_prefix()))
            paths = open_surveys(tree, env, args.runs + 2)
            url = stack.enter_context(gunicorn(tree, env, scratch / f"{tree.name}.log", None))
            servers[tree.name] = (url, paths)
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        stack.callback(browser.close)
        for tree in trees:
            url, paths = servers[tree.name]
            unthrottled = visit(browser, url + paths[-1], None)  # also warms the server up
            print(f"{tree.name}: first visit, unthrottled: {unthrottled.received} B received")
            for resource, size, encoding in unthrottled.resources:
                print(f"  {size:>8} B  {encoding:>5}  {resource.removeprefix(url)[:70]}")
            violations[tree.name] = axe_violations(browser, url + paths[-2])
        for number in range(args.runs):
            for tree in trees:
                url, paths = servers[tree.name]
                run = visit(browser, url + paths[number], network)
                visits[tree.name].append(run)
                print(
                    f"  {tree.name} {number + 1}: {run.received} B in {run.requests} requests, "
                    f"FCP {run.fcp_ms:.0f} ms, question {run.question_ms:.0f} ms, "
                    f"load {run.load_ms:.0f} ms",
                    flush=True,
                )
    print(
        f"\nfirst visit to a survey page, {args.down_kbps:g} kbit/s down, {args.up_kbps:g} "
        f"kbit/s up, {args.latency_ms:g} ms latency, medians of {args.runs} runs:"
    )
    for name, runs in visits.items():
        median = statistics.median
        print(
            f"  {name:9} {median(r.received for r in runs):>9.0f} B  "
            f"{median(r.requests for r in runs):.0f} requests  "
            f"FCP {median(r.fcp_ms for r in runs):5.0f} ms  "
            f"question {median(r.question_ms for r in runs):5.0f} ms "
            f"(slowest {max(r.question_ms for r in runs):.0f})  "
            f"load {median(r.load_ms for r in runs):5.0f} ms  "
            f"axe violations: {len(violations[name])} {violations[name] or ''}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
