"""`gateway qr`: the QR code and poster for a flow's public entry."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from tests.conftest import SHIPPED_FLOWS


def _run(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"FLOWS_DIR": str(SHIPPED_FLOWS), "TWILIO_PHONE_NUMBER": "+12025550100"}
    result = CliRunner().invoke(main, ["qr", *args], env=env)
    return result.exit_code, result.output


def test_gateway_qr_writes_a_qr_code_and_a_poster(tmp_path: Path) -> None:
    code, output = _run(
        tmp_path,
        "office-visit",
        "--location",
        "downtown",
        "--out",
        str(tmp_path),
        "--base-url",
        "https://feedback.example.gov",
    )
    assert code == 0, output
    url = "https://feedback.example.gov/f/office-visit?location=downtown"
    assert url in output
    assert (tmp_path / "office-visit-downtown.png").read_bytes().startswith(b"\x89PNG")
    svg = (tmp_path / "office-visit-downtown.svg").read_text()
    assert "<svg" in svg
    poster = (tmp_path / "office-visit-downtown-poster.html").read_text()
    assert url in poster
    assert "Or text VISIT to +12025550100." in poster
    assert "O envíe VISIT por mensaje de texto al +12025550100." in poster
    assert "@page" in poster


def test_gateway_qr_needs_a_public_base_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    code, output = _run(tmp_path, "office-visit", "--location", "x", "--out", str(tmp_path))
    assert code == 2
    assert "PUBLIC_BASE_URL" in output


def test_gateway_qr_refuses_a_location_code_that_cannot_go_in_a_url(tmp_path: Path) -> None:
    code, output = _run(
        tmp_path, "office-visit", "--location", "a b", "--base-url", "https://x.gov"
    )
    assert code == 2
    assert "location code" in output
