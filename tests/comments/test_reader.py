"""The reader interface: the rules by default, another reader by configuration, and the
rules' floor (redaction first, crisis routed) whatever reader is configured."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from gateway.comments.crisis import CrisisReading
from gateway.comments.reader import (
    Classification,
    ReaderConfigError,
    RulesReader,
    build_reader,
    read_comment,
)
from gateway.comments.redaction import Redactor
from gateway.comments.sentiment import SentimentReading
from gateway.comments.taxonomy import Taxonomy, ThemeMatch, load_taxonomy_file

SHIPPED = Path(__file__).resolve().parents[2] / "taxonomy" / "default.yaml"


def taxonomy() -> Taxonomy:
    loaded = load_taxonomy_file(SHIPPED)
    assert loaded.taxonomy is not None
    return loaded.taxonomy


class CalmModel:
    """An agency's model that sees every comment as neutral and never as a crisis."""

    name = "calm-model"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def classify(self, text: str, language: str) -> Classification:
        self.seen.append(text)
        return Classification(
            (ThemeMatch("fees", ("model",)),),
            SentimentReading("neutral", 0.0, ()),
            CrisisReading(False),
        )


@pytest.fixture
def plugin_module(monkeypatch: pytest.MonkeyPatch) -> CalmModel:
    model = CalmModel()
    module = types.ModuleType("agency_reader")
    module.make = lambda _taxonomy: model  # type: ignore[attr-defined]
    module.not_a_reader = lambda _taxonomy: object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "agency_reader", module)
    return model


def test_the_default_reader_is_the_rules() -> None:
    assert isinstance(build_reader("rules", taxonomy()), RulesReader)


def test_a_configured_reader_decides_themes_and_sentiment(plugin_module: CalmModel) -> None:
    reader = build_reader("agency_reader:make", taxonomy())
    reading = read_comment("The fee was fine", "en", Redactor(), reader)
    assert reading.theme_ids == ("fees",) and reading.reader == "calm-model"


def test_a_configured_reader_only_ever_sees_redacted_text(plugin_module: CalmModel) -> None:
    reader = build_reader("agency_reader:make", taxonomy())
    read_comment("my ssn is 123-45-6789", "en", Redactor(), reader)
    assert plugin_module.seen == ["my ssn is [SSN]"]


def test_the_rules_route_a_crisis_the_configured_reader_missed(plugin_module: CalmModel) -> None:
    reader = build_reader("agency_reader:make", taxonomy())
    reading = read_comment("I want to kill myself", "en", Redactor(), reader)
    assert reading.crisis.route


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("agency_reader", "must be 'rules' or 'package.module:factory'"),
        ("no_such_module_here:make", "cannot import"),
        ("agency_reader:missing", "has no factory 'missing'"),
        ("agency_reader:not_a_reader", "returned object"),
    ],
)
def test_a_wrong_reader_setting_is_refused_saying_why(
    plugin_module: CalmModel, spec: str, problem: str
) -> None:
    with pytest.raises(ReaderConfigError, match=problem):
        build_reader(spec, taxonomy())
