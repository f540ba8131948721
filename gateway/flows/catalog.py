"""The message catalog: every sentence the gateway says itself, in every language.

One YAML file per language in ``gateway/messages/`` (``en.yaml``, ``es.yaml``, ...);
adding a language is adding one file. Keys are dotted paths into the file
(``"sms.yesno"``). A key missing from a language falls back to English, so a new
language can start small. Word lists (``words.yes``, ``words.skip`` ...) are what the
answer parsers accept; a language's lists are used together with the English ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

MESSAGES_DIR = Path(__file__).resolve().parent.parent / "messages"
FALLBACK_LANGUAGE = "en"


class CatalogError(Exception):
    """A catalog file that cannot be read, or a key no language defines."""


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


class Catalog:
    """One language's messages and word lists, with English behind it."""

    def __init__(
        self, language: str, entries: Mapping[str, Any], fallback: Catalog | None = None
    ) -> None:
        self.language = language
        self._entries = dict(entries)
        self._fallback = fallback

    @classmethod
    def from_file(cls, path: Path, fallback: Catalog | None = None) -> Catalog:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogError(f"{path}: cannot read message catalog: {exc}") from exc
        if not isinstance(data, Mapping):
            raise CatalogError(f"{path}: a message catalog must be a mapping of keys")
        return cls(path.stem, _flatten(data), fallback)

    def keys(self) -> set[str]:
        """The keys this language defines itself (without the English fallback)."""
        return set(self._entries)

    def raw(self, key: str) -> Any:
        """The entry as written, from this language or else English."""
        if key in self._entries:
            return self._entries[key]
        if self._fallback is not None:
            return self._fallback.raw(key)
        raise CatalogError(f"no message {key!r} in the {self.language!r} catalog")

    def message(self, key: str, /, **params: object) -> str:
        """The message, with ``{name}`` placeholders filled; a missing one is a KeyError."""
        template = self.raw(key)
        if not isinstance(template, str):
            raise CatalogError(f"catalog entry {key!r} is a list, not a message")
        return template.format(**params) if params or "{" in template else template

    def words(self, key: str) -> tuple[str, ...]:
        """A word list of this language followed by the English one (deduplicated)."""
        own = self._entries.get(f"words.{key}", [])
        english = self._fallback.words(key) if self._fallback is not None else ()
        return tuple(dict.fromkeys([*(str(w) for w in own), *english]))

    def own_words(self, key: str) -> tuple[str, ...]:
        """A word list of this language alone (English when the language has none)."""
        value = self._entries.get(f"words.{key}")
        if value is None:
            return self._fallback.own_words(key) if self._fallback is not None else ()
        return tuple(str(w) for w in value)


def available_languages() -> set[str]:
    """The languages with a catalog file."""
    return {path.stem for path in MESSAGES_DIR.glob("*.yaml")}


@cache
def catalog(language: str) -> Catalog:
    """The catalog of a language; an unknown language gets the English one."""
    english = Catalog.from_file(MESSAGES_DIR / f"{FALLBACK_LANGUAGE}.yaml")
    if language == FALLBACK_LANGUAGE:
        return english
    path = MESSAGES_DIR / f"{language}.yaml"
    if not path.is_file():
        return english
    return Catalog.from_file(path, fallback=english)


def message(language: str, key: str, /, **params: object) -> str:
    """A message in a language, English when the language lacks the key."""
    return catalog(language).message(key, **params)
