"""The themes' taxonomy: the shipped file, terms in both languages, and a broken file
reported line by line like a flow file."""

from __future__ import annotations

from pathlib import Path

from gateway.comments.taxonomy import load_taxonomy_file, load_taxonomy_text
from gateway.comments.text import fold

SHIPPED = Path(__file__).resolve().parents[2] / "taxonomy" / "default.yaml"


def themes(text: str) -> list[str]:
    loaded = load_taxonomy_file(SHIPPED)
    assert loaded.taxonomy is not None, loaded.errors
    return [match.theme for match in loaded.taxonomy.match(fold(text))]


def test_the_shipped_taxonomy_has_the_common_service_topics() -> None:
    loaded = load_taxonomy_file(SHIPPED)
    assert loaded.ok and loaded.taxonomy is not None
    for theme in (
        "wait_time",
        "staff_courtesy",
        "website",
        "phone_hold",
        "documents",
        "fees",
        "language_access",
        "accessibility",
    ):
        assert theme in loaded.taxonomy.ids


def test_english_and_spanish_comments_get_the_same_themes() -> None:
    assert themes("Waited 3 hours and the clerk was rude") == ["wait_time", "staff_courtesy"]
    assert themes("Esperé 3 horas y la empleada fue grosera") == ["wait_time", "staff_courtesy"]


def test_spanish_matches_with_and_without_accents() -> None:
    assert themes("la página no carga") == themes("la pagina no carga") == ["website"]


def test_a_broken_taxonomy_names_the_file_line_and_field() -> None:
    text = """themes:
  - id: wait_time
    label: Wait time
    terms:
      en: [wait*]
  - id: Bad Theme
    label: Bad
    terms: {en: [x]}
  - id: fees
    label: Fees
    colour: red
    terms:
      fr: [frais]
"""
    loaded = load_taxonomy_text(text, "agency/taxonomy.yaml")
    assert loaded.taxonomy is None
    messages = [str(error) for error in loaded.errors]
    assert messages[0].startswith("agency/taxonomy.yaml:6:9: theme id 'Bad Theme' must be")
    assert any(m.startswith("agency/taxonomy.yaml:11:5: unknown field 'colour'") for m in messages)
    assert any(m.startswith("agency/taxonomy.yaml:13:7: theme 'fees': terms: unknown field 'fr'")
               for m in messages)  # fmt: skip


def test_a_theme_given_twice_is_refused_with_the_first_line() -> None:
    theme = "  - {id: fees, label: Fees, terms: {en: [fee]}}\n"
    loaded = load_taxonomy_text("themes:\n" + theme + theme, "t.yaml")
    assert loaded.taxonomy is None
    assert "theme 'fees' is given twice (first on line 2)" in str(loaded.errors[0])
