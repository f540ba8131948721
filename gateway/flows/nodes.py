"""Reading typed values out of composed YAML nodes, reporting each mismatch at its node.

:class:`NodeReader` collects problems instead of raising, so that one pass over a file
finds all of them. Scalars are converted by PyYAML's safe constructor (YAML 1.1 rules),
and the usual surprises get a hint: ``no`` and ``yes`` are booleans unless quoted.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gateway.flows.errors import FlowError, Severity

Fields = dict[str, tuple[Node, Node]]  # field name -> (key node, value node)

_BOOL_OR_NULL = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:null")


def position(node: Node) -> tuple[int, int]:
    """The 1-based line and column where ``node`` starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def describe(node: Node, value: Any) -> str:
    """What a value is, in words, for "must be X, not Y" messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {node.value!r}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {node.value}"
    if isinstance(value, datetime | date):
        return f"the date {node.value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"a {type(value).__name__}"


class NodeReader:
    """Typed access to nodes; every failed read is recorded as a :class:`FlowError`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[FlowError] = []
        self.warnings: list[FlowError] = []
        self._constructor = yaml.constructor.SafeConstructor()

    # ---- reporting ----------------------------------------------------------------------

    def report(
        self,
        node: Node,
        message: str,
        severity: Severity = "error",
        at: tuple[int, int] | None = None,
    ) -> None:
        line, col = at or position(node)
        problem = FlowError(self.path, line, col, message, severity)
        (self.warnings if severity == "warning" else self.errors).append(problem)

    def error(self, node: Node, message: str) -> None:
        self.report(node, message)

    # ---- scalars ------------------------------------------------------------------------

    def value(self, node: Node) -> Any:
        """The Python value of a scalar node (None for a collection or a bad scalar)."""
        if not isinstance(node, ScalarNode):
            return None
        try:
            return self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError):
            return node.value

    def string(self, node: Node, what: str) -> str | None:
        value = self.value(node)
        if isinstance(value, str) and isinstance(node, ScalarNode):
            return value
        hint = ""
        if (
            isinstance(node, ScalarNode)
            and node.tag in _BOOL_OR_NULL
            and node.style is None
            and node.value
        ):
            kind = "boolean" if isinstance(value, bool) else "null"
            hint = f'; YAML reads {node.value} as a {kind}, so quote it: "{node.value}"'
        self.error(node, f"{what} must be text, not {describe(node, value)}{hint}")
        return None

    def integer(self, node: Node, what: str) -> int | None:
        value = self.value(node)
        if isinstance(value, int) and not isinstance(value, bool) and isinstance(node, ScalarNode):
            return value
        self.error(node, f"{what} must be an integer, not {describe(node, value)}")
        return None

    def positive(self, node: Node, what: str) -> int | None:
        value = self.integer(node, what)
        if value is not None and value < 1:
            self.error(node, f"{what} must be a positive integer, not {value}")
            return None
        return value

    def boolean(self, node: Node, what: str) -> bool | None:
        value = self.value(node)
        if isinstance(value, bool) and isinstance(node, ScalarNode):
            return value
        self.error(node, f"{what} must be true or false, not {describe(node, value)}")
        return None

    # ---- collections --------------------------------------------------------------------

    def sequence(self, node: Node, what: str, non_empty: bool = False) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.error(node, f"{what} must be a list, not {describe(node, self.value(node))}")
            return None
        if non_empty and not node.value:
            self.error(node, f"{what} must not be empty")
            return None
        return list(node.value)

    def mapping(
        self,
        node: Node,
        what: str,
        allowed: Sequence[str],
        required: Sequence[str] = (),
        prefix: str = "",
    ) -> Fields | None:
        """The fields of a mapping node; unknown, duplicate and missing fields are errors.

        ``what`` names the mapping in a type error; ``prefix`` starts every other message
        (e.g. ``"question 'satisfied': "``).
        """
        if not isinstance(node, MappingNode):
            self.error(
                node, f"{what} must be a mapping of fields, not {describe(node, self.value(node))}"
            )
            return None
        fields: Fields = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, str) or not isinstance(key_node, ScalarNode):
                self.error(
                    key_node, f"{prefix}field names must be text, not {describe(key_node, key)}"
                )
                continue
            if key in fields:
                line, _ = position(fields[key][0])
                self.error(key_node, f"{prefix}field '{key}' is given twice (first on line {line})")
                continue
            if key not in allowed:
                self.error(key_node, f"{prefix}{self.unknown(key, allowed)}")
                continue
            fields[key] = (key_node, value_node)
        for name in required:
            if name not in fields:
                self.error(node, f"{prefix}missing required field '{name}'")
        return fields

    @staticmethod
    def unknown(key: str, allowed: Sequence[str]) -> str:
        close = difflib.get_close_matches(key, allowed, n=1)
        if close:
            return f"unknown field '{key}' (did you mean '{close[0]}'?)"
        return f"unknown field '{key}'; expected one of: {', '.join(allowed)}"
