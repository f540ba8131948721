"""`gateway simulate`: a scripted conversation in the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main

FLOW = """\
id: tiny
version: 1
title: {en: Tiny, es: Breve}
agency: demo
languages: [en, es]
context: [office]
questions:
  - id: satisfied
    type: rating
    prompt: {en: "Satisfied at {office}?", es: "¿Satisfecho en {office}?"}
  - id: comment
    type: text
    optional: true
    prompt: {en: "Anything else?", es: "¿Algo más?"}
"""


@pytest.fixture
def flows_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "tiny.yaml").write_text(FLOW, encoding="utf-8")
    monkeypatch.setenv("FLOWS_DIR", str(tmp_path))
    return tmp_path


def test_a_scripted_sms_conversation_ends_with_the_answers_as_json(flows_dir: Path) -> None:
    result = CliRunner().invoke(
        main, ["simulate", "tiny", "--context", "office=Main St"], input="six\n4\nskip\n"
    )
    assert result.exit_code == 0, result.output
    assert "< Satisfied at Main St? Reply 1 to 5" in result.output
    assert "> six" in result.output
    summary = json.loads(result.output[result.output.index("{") :])
    assert summary["answers"] == {"satisfied": 4, "comment": None}
    assert summary["status"] == "completed"


def test_a_voice_simulation_shows_the_keys_to_press(flows_dir: Path) -> None:
    result = CliRunner().invoke(
        main, ["simulate", "tiny", "--channel", "voice", "--context", "office=X"], input="9\n5\n*\n"
    )
    assert "[press a key: 1 9]" in result.output
    assert json.loads(result.output[result.output.index("{") :])["language"] == "es"


def test_a_voice_choice_of_several_keys_says_one_line_is_the_whole_sequence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "handoff.yaml").write_text(HANDOFF_FLOW, encoding="utf-8")
    monkeypatch.setenv("FLOWS_DIR", str(tmp_path))
    result = CliRunner().invoke(
        main, ["simulate", "handoff", "--channel", "voice"], input="4\n12#\n"
    )
    assert "[press any of 1 2, all on one line, then #: 12# is 1 and 2]" in result.output
    summary = json.loads(result.output[result.output.index("{") :])
    assert summary["answers"]["topics"] == ["permit", "license"]


def test_input_ending_early_reports_how_far_it_got(flows_dir: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", "tiny", "--context", "office=X"], input="3\n")
    assert result.exit_code == 0
    assert "input ended at 'comment'" in result.output


def test_an_unknown_flow_names_the_valid_ones(flows_dir: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", "nope"])
    assert result.exit_code == 2 and "valid flow ids: tiny" in result.output


def test_a_missing_context_value_is_named(flows_dir: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", "tiny"], input="")
    assert result.exit_code == 2 and "--context office=" in result.output


HANDOFF_FLOW = """\
id: handoff
version: 1
title: Hand-off
agency: demo
questions:
  - id: satisfied
    type: rating
    prompt: Satisfied?
  - id: topics
    type: choice
    multiple: true
    handoff: web
    prompt: What was it about?
    options:
      - {value: permit, label: A permit}
      - {value: license, label: A license}
"""


def test_an_sms_simulation_continues_as_the_web_form_after_a_handoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "handoff.yaml").write_text(HANDOFF_FLOW, encoding="utf-8")
    monkeypatch.setenv("FLOWS_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["simulate", "handoff"], input="4\npermit, license\n")
    assert result.exit_code == 0, result.output
    assert "< To answer the rest, open this link: [web survey link]" in result.output
    assert "(web form: permit, license; several separated by commas)" in result.output
    summary = json.loads(result.output[result.output.index("{") :])
    assert summary["answers"] == {"satisfied": 4, "topics": ["permit", "license"]}
    assert summary["channel"] == "web"
