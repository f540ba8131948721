"""docs/security.md names the tests that prove its claims: every test file, folder and test
function it names exists, so the threat map cannot rot when a test is renamed or removed.

A reference is a code span: ``tests/<path>`` (a file or a folder), ``tests/<file>::<test>``,
or a bare ``test_<name>``, which belongs to the last test file named before it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECURITY = ROOT / "docs" / "security.md"
SPAN = re.compile(r"`([^`\n]+)`")
PATH = re.compile(r"(tests/[\w/.-]*?)(?:::(\w+))?")
BARE_TEST = re.compile(r"test_\w+")


def references(text: str) -> list[tuple[str, str | None]]:
    """Every (test path, test name or None) the text names, in order; a bare test name is
    paired with the test file named last before it."""
    found: list[tuple[str, str | None]] = []
    last_file: str | None = None
    for span in SPAN.findall(text):
        path = PATH.fullmatch(span)
        if path is not None:
            found.append((path.group(1), path.group(2)))
            if path.group(1).endswith(".py"):
                last_file = path.group(1)
        elif BARE_TEST.fullmatch(span):
            assert last_file is not None, f"{span} names no file before it"
            found.append((last_file, span))
    return found


def defines(path: Path, name: str) -> bool:
    return re.search(rf"^(async )?def {re.escape(name)}\(", path.read_text(), re.M) is not None


def problems(text: str) -> list[str]:
    wrong = []
    for path, name in references(text):
        target = ROOT / path
        if not target.exists():
            wrong.append(f"{path}: no such file or folder")
        elif name is not None and not (target.is_file() and defines(target, name)):
            wrong.append(f"{path}::{name}: no such test")
    return wrong


def test_every_test_the_security_page_names_exists() -> None:
    text = SECURITY.read_text(encoding="utf-8")
    assert len(references(text)) > 40, "the page names its tests"
    assert problems(text) == []


def threat_rows(text: str) -> list[list[str]]:
    section = text.split("## Threat map", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    table = [row for row in rows[1:] if not row.startswith("| ---")]  # header, rule
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in table]


def test_every_threat_of_the_map_has_a_control_and_a_test() -> None:
    rows = threat_rows(SECURITY.read_text(encoding="utf-8"))
    assert len(rows) >= 20
    for threat, control, proof in rows:
        assert threat and control, threat
        assert any(PATH.fullmatch(span) for span in SPAN.findall(proof)), (
            f"no test named for: {threat}"
        )


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("`tests/security/test_threat_map.py::test_gone_away`", ["::test_gone_away"]),
        ("`tests/nowhere/test_x.py`", ["tests/nowhere/test_x.py: no such file"]),
        ("`tests/security/test_threat_map.py`, `test_renamed`", ["::test_renamed"]),
        ("`tests/security`, `tests/security/test_threat_map.py::defines`", []),
    ],
)
def test_a_missing_file_or_test_is_caught(text: str, wrong: list[str]) -> None:
    found = problems(text)
    assert len(found) == len(wrong)
    for problem, expected in zip(found, wrong, strict=True):
        assert expected in problem
