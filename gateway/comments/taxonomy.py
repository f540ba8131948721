"""The themes a comment can be about, read from an agency-editable YAML file.

A taxonomy file lists themes, each with an id, a label per language and the words and
phrases that signal it in each language (``taxonomy/default.yaml`` is the shipped one).
It is checked like a flow file: every problem is reported as ``file:line:col: message``
(:class:`gateway.flows.errors.FlowError`) and a file with one error is not used at all.

Terms are matched on folded text (lower case, no accents) at word boundaries; a term
ending in ``*`` matches any word starting with it (``esper*``: espera, esperé, esperando).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import Node

from gateway.comments.text import alternation, fold
from gateway.flows.errors import FlowError
from gateway.flows.nodes import NodeReader

THEME_ID = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
LANGUAGES = ("en", "es")
_TERM = re.compile(r"^[^*]{2,60}\*?$")
_A11_DRIVERS = (
    "satisfaction",
    "trust",
    "effectiveness",
    "ease",
    "efficiency",
    "transparency",
    "humanity",
    "employee",
)


@dataclass(frozen=True)
class Theme:
    id: str
    labels: dict[str, str]
    terms: dict[str, tuple[str, ...]]
    a11: str | None = None
    pattern: re.Pattern[str] = field(default=re.compile(r"(?!)"), compare=False, repr=False)

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("en") or self.id


@dataclass(frozen=True)
class ThemeMatch:
    theme: str
    #: The words of the comment (folded) that matched the theme's terms.
    matched: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    themes: tuple[Theme, ...]
    source: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(theme.id for theme in self.themes)

    def get(self, theme_id: str) -> Theme | None:
        return next((theme for theme in self.themes if theme.id == theme_id), None)

    def match(self, folded: str) -> tuple[ThemeMatch, ...]:
        """The themes whose terms occur in ``folded`` (text passed through
        :func:`gateway.comments.text.fold`), in taxonomy order."""
        found = []
        for theme in self.themes:
            hits = theme.pattern.findall(folded)
            if hits:
                found.append(ThemeMatch(theme.id, tuple(dict.fromkeys(hits))))
        return tuple(found)


@dataclass
class TaxonomyResult:
    taxonomy: Taxonomy | None
    errors: list[FlowError]

    @property
    def ok(self) -> bool:
        return not self.errors


def load_taxonomy_file(path: Path) -> TaxonomyResult:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return TaxonomyResult(None, [FlowError(name, 1, 1, f"cannot read the file: {exc}")])
    except UnicodeDecodeError:
        return TaxonomyResult(
            None, [FlowError(name, 1, 1, "the file is not UTF-8 text; save it as UTF-8")]
        )
    return load_taxonomy_text(text, name)


def load_taxonomy_text(text: str, path: str) -> TaxonomyResult:
    """Read and check a taxonomy from its YAML; ``path`` names it in messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "not valid YAML"
        return TaxonomyResult(None, [FlowError(path, line, col, f"invalid YAML: {problem}")])
    if root is None:
        return TaxonomyResult(None, [FlowError(path, 1, 1, "the file is empty")])
    reader = NodeReader(path)
    themes = _read(reader, root)
    if reader.errors:
        return TaxonomyResult(None, sorted(reader.errors, key=lambda e: e.sort_key))
    return TaxonomyResult(Taxonomy(tuple(themes), path), [])


def _read(reader: NodeReader, root: Node) -> list[Theme]:
    fields = reader.mapping(root, "the taxonomy", allowed=("themes",), required=("themes",))
    if not fields or "themes" not in fields:
        return []
    items = reader.sequence(fields["themes"][1], "'themes'", non_empty=True)
    themes: list[Theme] = []
    seen: dict[str, int] = {}
    for item in items or ():
        theme = _read_theme(reader, item)
        if theme is None:
            continue
        if theme.id in seen:
            reader.error(
                item, f"theme '{theme.id}' is given twice (first on line {seen[theme.id]})"
            )
            continue
        seen[theme.id] = item.start_mark.line + 1
        themes.append(theme)
    return themes


def _read_theme(reader: NodeReader, node: Node) -> Theme | None:
    fields = reader.mapping(
        node, "a theme", allowed=("id", "label", "a11", "terms"), required=("id", "label", "terms")
    )
    if fields is None or not {"id", "label", "terms"} <= fields.keys():
        return None
    theme_id = reader.string(fields["id"][1], "'id'")
    if theme_id is None:
        return None
    prefix = f"theme '{theme_id}': "
    if not THEME_ID.match(theme_id):
        reader.error(
            fields["id"][1],
            f"theme id {theme_id!r} must be lower-case letters, digits and _, "
            "starting with a letter",
        )
        return None
    labels = _labels(reader, fields["label"][1], prefix + "'label'")
    terms: dict[str, tuple[str, ...]] = {}
    terms_fields = reader.mapping(
        fields["terms"][1], prefix + "'terms'", allowed=LANGUAGES, prefix=prefix + "terms: "
    )
    for language, (_, value) in (terms_fields or {}).items():
        items = reader.sequence(value, f"{prefix}terms.{language}", non_empty=True) or []
        words = []
        for term_node in items:
            term = reader.string(term_node, f"{prefix}a term")
            if term is None:
                continue
            if not _TERM.match(term.strip()):
                reader.error(
                    term_node,
                    f"{prefix}term {term!r} must be 2 to 60 characters, with * only at the end",
                )
                continue
            words.append(fold(term.strip()))
        terms[language] = tuple(words)
    if terms_fields is not None and not terms:
        reader.error(fields["terms"][1], f"{prefix}'terms' must list terms for en or es")
    a11 = None
    if "a11" in fields:
        a11 = reader.string(fields["a11"][1], prefix + "'a11'")
        if a11 is not None and a11 not in _A11_DRIVERS:
            reader.error(
                fields["a11"][1],
                f"{prefix}'a11' must be one of {', '.join(_A11_DRIVERS)}, not {a11!r}",
            )
    if labels is None or reader.errors:
        return None
    return Theme(
        theme_id, labels, terms, a11, compile_terms(t for ts in terms.values() for t in ts)
    )


def _labels(reader: NodeReader, node: Node, what: str) -> dict[str, str] | None:
    if isinstance(node, yaml.ScalarNode):
        text = reader.string(node, what)
        return {"en": text} if text else None
    fields = reader.mapping(node, what, allowed=LANGUAGES, prefix=f"{what}: ")
    if fields is None:
        return None
    labels = {}
    for language, (_, value) in fields.items():
        text = reader.string(value, f"{what}.{language}")
        if text:
            labels[language] = text
    return labels or None


def compile_terms(terms: Iterable[str]) -> re.Pattern[str]:
    """One pattern finding any of ``terms`` (folded) at word boundaries."""
    return re.compile(rf"\b{alternation(set(terms))}\b")
