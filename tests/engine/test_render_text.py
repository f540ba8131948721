"""Flow text as the respondent reads or hears it."""

from __future__ import annotations

from dataclasses import replace

from gateway.flows.render import fill, pra_notice
from tests.engine.flows import PRA, office_flow


def test_doubled_braces_are_shown_as_single_braces() -> None:
    assert fill("Use {{braces}} at {office}", {"office": "Main St"}) == "Use {braces} at Main St"


def test_doubled_braces_are_literal_even_without_context() -> None:
    assert fill("Use {{braces}} at {office}", None) == "Use {braces} at {office}"


def test_a_one_minute_burden_reads_in_the_singular() -> None:
    one_minute = office_flow(pra=replace(PRA, burden_minutes=1))
    assert "It takes about 1 minute." in (pra_notice(one_minute, "voice", "en") or "")
    assert "un minuto" in (pra_notice(one_minute, "web", "es") or "")


def test_a_notice_without_a_burden_says_nothing_about_time() -> None:
    no_burden = office_flow(pra=replace(PRA, burden_minutes=None))
    notice = pra_notice(no_burden, "web", "en") or ""
    assert "takes about" not in notice
    assert "The OMB control number for this survey is 1234-5678" in notice
