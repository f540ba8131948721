"""Checking the flow's texts: one string per language, placeholders declared in context.

A text is a plain string (the flow's only language) or a mapping of language to string
covering exactly the flow's languages. ``{name}`` inserts a context value and must be
declared in ``context``; ``{{`` and ``}}`` stand for literal braces.
"""

from __future__ import annotations

import re

from yaml.nodes import MappingNode, Node, ScalarNode

from gateway.flows.model import Text
from gateway.flows.nodes import NodeReader, describe

_BRACES = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def placeholders(text: str) -> tuple[list[str], str | None]:
    """The placeholder names in ``text``, and the first stray brace if there is one."""
    names: list[str] = []
    for match in _BRACES.finditer(text):
        token = match.group()
        if token in ("{{", "}}"):
            continue
        if match.group(1) is None:
            return names, token
        names.append(match.group(1))
    return names, None


class TextReader(NodeReader):
    """Reads texts against the flow's languages and context (set before texts are read)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.languages: tuple[str, ...] = ("en",)
        self.context: tuple[str, ...] = ()

    def text(self, node: Node, what: str) -> Text | None:
        """Read a text; ``what`` names it in messages, e.g. "question 'x': prompt"."""
        if isinstance(node, ScalarNode):
            value = self.string(node, what)
            if value is None:
                return None
            if len(self.languages) > 1:
                missing = self.languages[1]
                self.error(
                    node,
                    f"{what} has no '{missing}' text; with languages {', '.join(self.languages)} "
                    "give a mapping with a text for each",
                )
                return None
            return self._one(node, what, value, self.languages[0])
        if not isinstance(node, MappingNode):
            self.error(
                node,
                f"{what} must be text or a mapping of language to text, not {describe(node, None)}",
            )
            return None
        result: Text = {}
        seen: set[str] = set()
        failed = False
        for key_node, value_node in node.value:
            language = self.value(key_node)
            if not isinstance(language, str) or language not in self.languages:
                shown = (
                    key_node.value if isinstance(key_node, ScalarNode) else describe(key_node, None)
                )
                self.error(
                    key_node,
                    f"{what} has text in '{shown}', which is not one of the flow's languages"
                    f" ({', '.join(self.languages)})",
                )
                failed = True
                continue
            if language in seen:
                self.error(key_node, f"{what} has two '{language}' texts")
                failed = True
                continue
            seen.add(language)
            value = self.string(value_node, f"{what} ({language})")
            text = (
                None
                if value is None
                else self._one(value_node, f"{what} ({language})", value, language)
            )
            if text is None:
                failed = True
                continue
            result[language] = value  # type: ignore[assignment]
        for language in self.languages:
            if language not in seen:
                self.error(node, f"{what} has no '{language}' text")
                failed = True
        return None if failed else result

    def _one(self, node: Node, what: str, value: str, language: str) -> Text | None:
        if not value.strip():
            self.error(node, f"{what} is empty")
            return None
        names, stray = placeholders(value)
        ok = True
        if stray is not None:
            self.error(
                node, f"{what} has an unmatched '{stray}'; write '{stray * 2}' for a literal brace"
            )
            ok = False
        for name in names:
            if name not in self.context:
                declared = ", ".join(self.context) or "nothing"
                self.error(
                    node,
                    f"{what} uses {{{name}}}, which is not declared in context (context declares"
                    f" {declared}); add it to context or write {{{{{name}}}}} for literal braces",
                )
                ok = False
        return {language: value} if ok else None
