"""The flows directory: valid files load, broken or clashing ones are refused by name."""

from __future__ import annotations

from pathlib import Path

from gateway.flows.registry import FlowRegistry


def flow(flow_id: str, keyword: str | None = None) -> str:
    keywords = f"start_keywords: [{keyword}]\n" if keyword else ""
    return (
        f"id: {flow_id}\nversion: 1\ntitle: T\nagency: demo\n{keywords}"
        "questions:\n  - id: q\n    type: yesno\n    prompt: Did we help?\n"
    )


def test_every_yaml_and_yml_file_loads(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(flow("first"))
    (tmp_path / "b.yml").write_text(flow("second"))
    (tmp_path / "notes.txt").write_text("not a flow")
    registry = FlowRegistry.load_directory(tmp_path)
    assert sorted(registry.flows) == ["first", "second"]
    assert registry.refused == {}


def test_a_broken_file_is_refused_while_the_others_load(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(flow("first"))
    (tmp_path / "b.yaml").write_text("id: [unclosed\n")
    registry = FlowRegistry.load_directory(tmp_path)
    assert list(registry.flows) == ["first"]
    assert list(registry.refused) == [tmp_path / "b.yaml"]


def test_the_later_file_with_a_duplicate_id_is_refused_naming_the_first(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(flow("same"))
    (tmp_path / "b.yaml").write_text(flow("same"))
    registry = FlowRegistry.load_directory(tmp_path)
    assert registry.flows["same"].source_path == str(tmp_path / "a.yaml")
    assert [str(e) for e in registry.refused[tmp_path / "b.yaml"]] == [
        f"{tmp_path / 'b.yaml'}:1:5: flow id 'same' is already used by {tmp_path / 'a.yaml'}"
    ]


def test_a_start_keyword_used_twice_refuses_the_later_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(flow("first", "VISIT"))
    (tmp_path / "b.yaml").write_text(flow("second", "visit"))
    registry = FlowRegistry.load_directory(tmp_path)
    assert [str(e) for e in registry.refused[tmp_path / "b.yaml"]] == [
        f"{tmp_path / 'b.yaml'}:5:18: start keyword 'visit' is already used by flow 'first'"
        f" in {tmp_path / 'a.yaml'}"
    ]


def test_start_keywords_match_whatever_the_case(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(flow("first", "Visit"))
    registry = FlowRegistry.load_directory(tmp_path)
    found = registry.by_keyword("vIsIt")
    assert found is not None and found.id == "first"
    assert registry.by_keyword("other") is None


def test_get_finds_a_flow_by_id(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(flow("first"))
    registry = FlowRegistry.load_directory(tmp_path)
    assert registry.get("first") is registry.flows["first"]
    assert registry.get("missing") is None


def test_a_missing_directory_gives_an_empty_registry_and_one_refusal(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    registry = FlowRegistry.load_directory(missing)
    assert registry.flows == {}
    assert [str(e) for e in registry.refused[missing]] == [
        f"{missing}:1:1: flows directory does not exist; create it or set FLOWS_DIR"
    ]


def test_warnings_are_kept_per_file(tmp_path: Path) -> None:
    text = flow("first").replace(
        "questions:",
        'pra:\n  omb_control_number: "1234-5678"\n  expiration_date: 2001-01-01\nquestions:',
    )
    (tmp_path / "a.yaml").write_text(text)
    registry = FlowRegistry.load_directory(tmp_path)
    assert "first" in registry.flows
    assert [w.line for w in registry.warnings[tmp_path / "a.yaml"]] == [7]
