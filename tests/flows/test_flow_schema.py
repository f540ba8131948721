"""The JSON Schema editors use agrees with the loader on shipped and fixture flows."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
SCHEMA = json.loads((ROOT / "gateway" / "flows" / "flow.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

VALID_FILES = sorted((ROOT / "flows").glob("*.yaml")) + sorted((HERE / "good").glob("*.yaml"))
REJECTED_BY_SCHEMA = [
    "bad-id.yaml",
    "version-bool.yaml",
    "unknown-field.yaml",
    "missing-field.yaml",
    "field-on-wrong-type.yaml",
    "question-bad-type.yaml",
    "reserved-keyword.yaml",
    "choice-too-many-options.yaml",
    "pra-bad-number.yaml",
    "message-optional.yaml",
    "expires-after.yaml",
    "handoff-not-web.yaml",
    "handoff-without-web-channel.yaml",
]


def as_json(value: Any) -> Any:
    """YAML's dates as the strings an editor's YAML server sees."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value


def test_the_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", VALID_FILES, ids=[p.name for p in VALID_FILES])
def test_a_valid_flow_satisfies_the_schema(path: Path) -> None:
    data = as_json(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert [e.message for e in VALIDATOR.iter_errors(data)] == []


@pytest.mark.parametrize("name", REJECTED_BY_SCHEMA)
def test_a_broken_flow_fails_the_schema(name: str) -> None:
    data = as_json(yaml.safe_load((HERE / "broken" / name).read_text(encoding="utf-8")))
    assert not VALIDATOR.is_valid(data)
