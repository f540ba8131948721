"""Text folded for matching: lower case, accents removed, so "Policía" and "policia" match."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

_FOLD_CACHE: dict[str, str] = {}


def fold(text: str) -> str:
    """``text`` in lower case with combining accents removed; one character per character
    of ``text`` for the Latin letters the gateway's languages use, so positions agree."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    out = []
    for char in lowered:
        if char.isascii():
            out.append(char)
            continue
        folded = _FOLD_CACHE.get(char)
        if folded is None:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            folded = base if len(base) == 1 else char
            _FOLD_CACHE[char] = folded
        out.append(folded)
    return "".join(out)


def alternation(words: Iterable[str]) -> str:
    """A regular expression matching any of ``words``, as a trie of their characters, so
    the engine tries each position once per branch rather than once per word (a long list
    of words as plain alternatives is several times slower). A word ending in ``*``
    matches any word starting with the rest; a space matches any run of white space."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = True
    return _branches(trie) or "(?!)"


def _branches(node: dict[str, Any]) -> str:
    alternatives = []
    for char, child in sorted(node.items()):
        if char == "":
            continue
        if char == "*" and list(child) == [""]:
            alternatives.append(r"\w*")
            continue
        head = r"\s+" if char == " " else re.escape(char)
        alternatives.append(head + _branches(child))
    ends_here = "" in node
    if not alternatives:
        return ""
    if len(alternatives) == 1 and not ends_here:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")" + ("?" if ends_here else "")
