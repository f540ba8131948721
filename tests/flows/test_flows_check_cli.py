"""`gateway flows check`: one line per problem, a summary, exit 1 when any file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main

HERE = Path(__file__).parent
VALID = (
    "id: {id}\nversion: 1\ntitle: T\nagency: demo\n"
    "questions:\n  - id: q\n    type: yesno\n    prompt: Ok?\n"
)


def check(*args: str) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(main, ["flows", "check", *args])
    return result.exit_code, result.stdout.splitlines(), result.stderr.strip()


def test_valid_files_exit_zero_with_a_summary(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID.format(id="first"))
    (tmp_path / "b.yaml").write_text(VALID.format(id="second"))
    code, lines, summary = check(str(tmp_path))
    assert (code, lines, summary) == (0, [], "2 files checked: 2 valid, 0 refused")


def test_a_refused_file_prints_its_errors_and_exits_one(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID.format(id="first"))
    (tmp_path / "b.yaml").write_text(VALID.format(id="B").replace("version: 1", "version: one"))
    code, lines, summary = check(str(tmp_path))
    assert code == 1
    assert lines == [
        f"{tmp_path / 'b.yaml'}:1:5: id 'B' is not valid:"
        " use lowercase letters, digits and hyphens,"
        " 2 to 63 characters",
        f"{tmp_path / 'b.yaml'}:2:10: version must be an integer, not the text 'one'",
    ]
    assert summary == "2 files checked: 1 valid, 1 refused"


def test_warnings_are_printed_but_do_not_fail_the_check(tmp_path: Path) -> None:
    text = VALID.format(id="first").replace(
        "questions:",
        'pra:\n  omb_control_number: "1234-5678"\n  expiration_date: 2001-01-01\nquestions:',
    )
    (tmp_path / "a.yaml").write_text(text)
    code, lines, summary = check(str(tmp_path / "a.yaml"))
    assert code == 0
    assert len(lines) == 1 and ":7:20: warning: pra: expiration_date 2001-01-01" in lines[0]
    assert summary == "1 file checked: 1 valid, 0 refused, 1 warning"


def test_duplicate_ids_across_the_files_checked_together_are_errors(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "a.yaml").write_text(VALID.format(id="same"))
    (tmp_path / "two" / "a.yaml").write_text(VALID.format(id="same"))
    code, lines, _ = check(str(tmp_path / "one"), str(tmp_path / "two" / "a.yaml"))
    assert code == 1
    assert lines == [
        f"{tmp_path / 'two' / 'a.yaml'}:1:5: flow id 'same' is already used by"
        f" {tmp_path / 'one' / 'a.yaml'}"
    ]


def test_a_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    code, lines, summary = check(str(tmp_path / "nope.yaml"))
    assert code == 1
    assert lines == [f"{tmp_path / 'nope.yaml'}:1:1: no such file or directory"]
    assert summary == "0 files checked: 0 valid, 0 refused; 1 path not found"


def test_without_paths_the_flows_directory_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.yaml").write_text(VALID.format(id="first"))
    monkeypatch.setenv("FLOWS_DIR", str(tmp_path))
    assert check() == (0, [], "1 file checked: 1 valid, 0 refused")


def test_every_broken_fixture_is_refused_one_line_each() -> None:
    code, lines, summary = check(str(HERE / "broken"))
    count = len(list((HERE / "broken").glob("*.yaml")))
    assert code == 1
    assert len(lines) == count
    assert lines == sorted(lines, key=lambda line: line.split(":")[0])
    assert summary == f"{count} files checked: 0 valid, {count} refused"


def test_the_good_fixtures_pass() -> None:
    code, lines, _ = check(str(HERE / "good"))
    assert (code, lines) == (0, [])
