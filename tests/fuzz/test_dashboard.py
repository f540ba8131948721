"""Generated paths and query strings on every dashboard page (every ``GET`` rule of the app's
URL map under ``/dashboard``), as a signed-in staff member whose agency has surveys to
show: dates, pages, filters and searches out of range, NUL and other control characters,
lone surrogates, huge values and unicode.

No answer is a 5xx; every answer is the dashboard's own (its security headers on an
error page too); reading a page writes nothing; the session outlives every request."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.routing import Rule

from tests.dashboard.test_dashboard import add_staff, sign_in
from tests.fuzz.support import (
    Tally,
    assert_nothing_stuck,
    assert_nothing_written,
    fuzz_settings,
    row_counts,
    text_or,
    work_off,
)
from tests.sms.support import Gateway

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

FLOWS = ("clinic-visit", "lobby-poster", "no-such-flow")
#: Query names the pages read, each with values a staff member would send (hostile ones,
#: out-of-range numbers and dates among them, are drawn besides).
QUERY = {
    "from": ("2026-10-01", "2026-09-15", "2026-01-01"),
    "to": ("2026-12-31", "2026-10-31", "2026-10-01"),
    "channel": ("sms", "voice", "email"),
    "language": ("en", "es"),
    "location": ("Main", "North"),
    "q": ("quick", "%", "_", "\\"),
    "page": ("0", "1", "2"),
    "next": ("/dashboard/", "/dashboard/deliveries", "//evil.example"),
}


def dashboard_pages(app: Flask) -> list[Rule]:
    """Every page a browser can ``GET`` under /dashboard, but its static files."""
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/dashboard")
            and "GET" in (rule.methods or set())
            and not rule.endpoint.endswith(".static")
        ),
        key=lambda rule: rule.rule,
    )


@st.composite
def page_requests(draw: st.DrawFn, rules: list[Rule]) -> tuple[str, str]:
    """A page's rule, and a path and query for it."""
    rule = draw(st.sampled_from(rules))
    path = rule.rule
    for name in sorted(rule.arguments):
        value = draw(text_or(*FLOWS) if "flow" in name else text_or("1", "x1"))
        placeholder = re.search(rf"<(?:[^:>]+:)?{name}>", path)
        assert placeholder is not None, rule.rule
        path = path.replace(placeholder.group(), quote(value, safe="", errors="surrogatepass"))
    query = draw(st.fixed_dictionaries({}, optional={n: text_or(*v) for n, v in QUERY.items()}))
    query |= draw(text_or("").flatmap(lambda name: st.just({name: "x"} if name else {})))
    encoded = urlencode(query, errors="surrogatepass")
    return rule.rule, path + (f"?{encoded}" if encoded else "")


def test_generated_queries_on_every_dashboard_page(gateway: Gateway, tally: Tally) -> None:
    for number, replies in (("+12025550123", ("4", "yes", "Quick")), ("+12025550124", ("2",))):
        gateway.trigger(to=number)
        work_off(gateway.app)
        for text in replies:
            gateway.text(text, from_=number)
    add_staff(gateway.app, "dmv", "analyst@dmv.example.gov")
    staff = gateway.app.test_client()
    assert sign_in(staff, "analyst@dmv.example.gov") == 302
    rules = dashboard_pages(gateway.app)
    assert any("<flow_id>" in rule.rule for rule in rules), [rule.rule for rule in rules]

    @given(request=page_requests(rules))
    @fuzz_settings()
    def page(request: tuple[str, str]) -> None:
        rule, target = request
        before = row_counts(gateway.app)
        response: Any = staff.get(target)
        tally.count(response.status_code)
        tally.note(f"{rule} {response.status_code}")
        assert response.status_code < 500, (target, response.get_data(as_text=True)[:500])
        assert "Content-Security-Policy" in response.headers, target
        if response.status_code >= 400:
            assert response.mimetype == "text/html", target
        assert_nothing_written(before, row_counts(gateway.app), f"GET {target}")

    page()
    # Still signed in: no generated request ended or spoiled the session.
    assert staff.get("/dashboard/").status_code == 200
    assert_nothing_stuck(gateway.app)
