"""Reading a flow's questions: ids, types, type-specific fields, options and `when`."""

from __future__ import annotations

import re
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from gateway.flows.conditions import check_comparison
from gateway.flows.model import (
    A11_TAGS,
    CHANNELS,
    HANDOFF_TARGETS,
    OVERRIDE_CHANNELS,
    QUESTION_TYPES,
    Channel,
    Option,
    Question,
    Text,
)
from gateway.flows.nodes import Fields, position
from gateway.flows.texts import TextReader
from gateway.flows.when import KEYWORDS, Condition, WhenSyntaxError, parse_when

QUESTION_FIELDS = ("id", "type", "prompt", *OVERRIDE_CHANNELS, "optional", "a11", "when") + (
    "handoff",
    "scale",
    "options",
    "multiple",
    "min",
    "max",
    "max_length",
    "max_seconds",
    "transcribe",
)
#: Fields only one question type may have.
ONLY_ON = {
    "scale": "rating",
    "options": "choice",
    "multiple": "choice",
    "min": "number",
    "max": "number",
    "max_length": "text",
    "max_seconds": "text",
    "transcribe": "text",
}
OPTION_FIELDS = ("value", "label", "key")
QUESTION_ID = re.compile(r"[a-z][a-z0-9_]*")
OPTION_VALUE = re.compile(r"[a-z0-9_]+")
MAX_OPTIONS = 9  # one keypad key each
MAX_RECORDING_SECONDS = 600


class QuestionReader(TextReader):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        #: The flow's channels, read before its questions (None when they are invalid).
        self.channels: tuple[Channel, ...] | None = CHANNELS
        #: Where each question's SMS wording is written (its sms override, or its prompt).
        self.sms_text_positions: dict[str, tuple[int, int]] = {}
        self._ids: dict[str, int] = {}  # question id -> index of its first question
        self._read: dict[str, Question] = {}  # questions so far that read without errors
        self._id_nodes: dict[str, Node] = {}

    def questions(self, node: Node) -> tuple[Question, ...] | None:
        items = self.sequence(node, "questions", non_empty=True)
        if items is None:
            return None
        for index, item in enumerate(items):
            qid = _peek_id(item)
            if qid is not None:
                self._ids.setdefault(qid, index)
        read = [self._question(item, index) for index, item in enumerate(items)]
        return None if None in read else tuple(q for q in read if q is not None)

    def _question(self, node: Node, index: int) -> Question | None:
        errors_before = len(self.errors)
        label = f"question {index + 1}: "
        fields = self.mapping(
            node, f"question {index + 1}", QUESTION_FIELDS, ("id", "type", "prompt"), label
        )
        if fields is None:
            return None
        value = {name: pair[1] for name, pair in fields.items()}
        qid = self._question_id(value.get("id"), index)
        prefix = f"question '{qid}': " if qid else label
        qtype = self.string(value["type"], f"{prefix}type") if "type" in value else None
        if qtype is not None and qtype not in QUESTION_TYPES:
            self.error(
                value["type"], f"{prefix}type '{qtype}' is not one of {', '.join(QUESTION_TYPES)}"
            )
            qtype = None
        if qtype is not None:
            for name, (key_node, _) in fields.items():
                if name in ONLY_ON and ONLY_ON[name] != qtype:
                    self.error(
                        key_node,
                        f"{prefix}field '{name}' is only allowed on {ONLY_ON[name]} questions",
                    )
                    value.pop(name)
            if qtype == "choice" and "options" not in value:
                self.error(
                    node,
                    f"{prefix}missing required field 'options'"
                    " (a choice question lists its options)",
                )

        args: dict[str, Any] = {}
        args["prompt"] = (
            self.text(value["prompt"], f"{prefix}prompt") if "prompt" in value else None
        )
        overrides: dict[str, Text] = {}
        for channel in OVERRIDE_CHANNELS:
            if channel in value:
                text = self.text(value[channel], f"{prefix}{channel}")
                if text is not None:
                    overrides[channel] = text
        args["overrides"] = overrides
        sms_node = value.get("sms", value.get("prompt"))
        if qid and sms_node is not None:
            self.sms_text_positions[qid] = position(sms_node)
        if "optional" in value:
            args["optional"] = self.boolean(value["optional"], f"{prefix}optional")
            if qtype == "message" and args["optional"]:
                self.error(
                    value["optional"],
                    f"{prefix}a message question has no answer, so it cannot be optional",
                )
        if "a11" in value:
            args["a11"] = tag = self.string(value["a11"], f"{prefix}a11")
            if tag is not None and tag not in A11_TAGS:
                self.error(
                    value["a11"], f"{prefix}a11 tag '{tag}' is not one of {', '.join(A11_TAGS)}"
                )
        if "when" in value:
            source = self.string(value["when"], f"{prefix}when")
            if source is not None:
                args["when"] = self._when(value["when"], source, index, prefix)
                args["when_source"] = source
        if "handoff" in value:
            args["handoff"] = self._handoff(value["handoff"], qtype, prefix)
        args.update(self._typed_fields(qtype, value, fields, prefix))

        if qid is None or qtype is None or len(self.errors) > errors_before:
            return None
        question = Question(id=qid, type=qtype, **args)
        self._read[qid] = question
        return question

    def _question_id(self, node: Node | None, index: int) -> str | None:
        if node is None:
            return None
        qid = self.string(node, f"question {index + 1}: id")
        if qid is None:
            return None
        if not QUESTION_ID.fullmatch(qid):
            self.error(
                node,
                f"question id '{qid}' is not valid:"
                " use lowercase letters, digits and _, starting with a letter",
            )
            return None
        if qid in KEYWORDS:
            self.error(
                node, f"question id '{qid}' is a word of the when language; choose another id"
            )
            return None
        if qid in self._id_nodes:
            line, _ = position(self._id_nodes[qid])
            self.error(node, f"question id '{qid}' is used twice (first on line {line})")
            return None
        self._id_nodes[qid] = node
        return qid

    def _handoff(self, node: Node, qtype: str | None, prefix: str) -> str | None:
        """``handoff: web``: checked against the question's type and the flow's channels."""
        target = self.string(node, f"{prefix}handoff")
        if target is None:
            return None
        if target not in HANDOFF_TARGETS:
            self.error(
                node,
                f"{prefix}handoff must be {' or '.join(HANDOFF_TARGETS)}, not '{target}'"
                " (the web survey is the one place an SMS survey can continue)",
            )
            return None
        if qtype == "message":
            self.error(
                node,
                f"{prefix}a message question has no answer, so it cannot hand off to the {target}",
            )
        elif self.channels is not None and target not in self.channels:
            self.error(
                node,
                f"{prefix}handoff: {target} needs the {target} channel, and channels lists"
                f" {', '.join(self.channels)}; add {target} to channels or remove handoff",
            )
        elif self.channels is not None and "sms" not in self.channels:
            self.report(
                node,
                f"{prefix}handoff has no effect: it applies only on SMS, which this flow"
                " does not use",
                "warning",
            )
        return target

    def _typed_fields(
        self, qtype: str | None, value: dict[str, Node], fields: Fields, prefix: str
    ) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if qtype == "rating" and "scale" in value:
            args["scale"] = self._scale(value["scale"], prefix)
        if qtype == "choice":
            if "multiple" in value:
                args["multiple"] = self.boolean(value["multiple"], f"{prefix}multiple")
            if "options" in value:
                args["options"] = self._options(value["options"], prefix)
        if qtype == "number":
            for bound in ("min", "max"):
                if bound in value:
                    args[bound] = self.integer(value[bound], f"{prefix}{bound}")
            low, high = args.get("min"), args.get("max")
            if low is not None and high is not None and low > high:
                self.error(value["max"], f"{prefix}max {high} is less than min {low}")
        if qtype == "text":
            if "max_length" in value:
                args["max_length"] = self.positive(value["max_length"], f"{prefix}max_length")
            if "max_seconds" in value:
                seconds = self.integer(value["max_seconds"], f"{prefix}max_seconds")
                if seconds is not None and not 1 <= seconds <= MAX_RECORDING_SECONDS:
                    self.error(
                        value["max_seconds"],
                        f"{prefix}max_seconds must be 1 to {MAX_RECORDING_SECONDS}, not {seconds}",
                    )
                args["max_seconds"] = seconds
            if "transcribe" in value:
                args["transcribe"] = self.boolean(value["transcribe"], f"{prefix}transcribe")
        return args

    def _scale(self, node: Node, prefix: str) -> tuple[int, int] | None:
        items = self.sequence(node, f"{prefix}scale")
        if items is None:
            return None
        if len(items) != 2:
            self.error(
                node, f"{prefix}scale must be two integers [lowest, highest], such as [1, 5]"
            )
            return None
        low, high = (self.integer(item, f"{prefix}scale") for item in items)
        if low is None or high is None:
            return None
        if not 0 <= low < high <= 10:
            self.error(
                node, f"{prefix}scale [{low}, {high}] must satisfy 0 <= lowest < highest <= 10"
            )
            return None
        return low, high

    def _options(self, node: Node, prefix: str) -> tuple[Option, ...] | None:
        items = self.sequence(node, f"{prefix}options", non_empty=True)
        if items is None:
            return None
        if len(items) > MAX_OPTIONS:
            self.error(
                node,
                f"{prefix}{len(items)} options is too many:"
                f" at most {MAX_OPTIONS}, one per keypad key",
            )
            return None
        options: list[Option] = []
        values: dict[str, int] = {}
        keys: dict[str, str] = {}  # key -> option value using it
        for number, item in enumerate(items, start=1):
            label = f"{prefix}option {number}"
            fields = self.mapping(item, label, OPTION_FIELDS, ("value", "label"), f"{label}: ")
            if fields is None:
                continue
            value_node = fields["value"][1] if "value" in fields else None
            value = self.string(value_node, f"{label}: value") if value_node is not None else None
            if value_node is not None and value is not None:
                if not OPTION_VALUE.fullmatch(value):
                    self.error(
                        value_node,
                        f"{label}: value '{value}' is not valid:"
                        " use lowercase letters, digits and _",
                    )
                elif value in values:
                    self.error(
                        value_node,
                        f"{prefix}option value '{value}' is used twice"
                        f" (options {values[value]} and {number})",
                    )
                else:
                    values[value] = number
                    label = f"{prefix}option '{value}'"
            text = self.text(fields["label"][1], f"{label}: label") if "label" in fields else None
            key = self._key(fields["key"][1], label) if "key" in fields else str(number)
            if key is not None and key in keys:
                where = fields["key"][1] if "key" in fields else item
                self.error(where, f"{label}: key {key} is already the key of option '{keys[key]}'")
            elif key is not None and value is not None:
                keys[key] = value
            if value is not None and text is not None and key is not None:
                options.append(Option(value=value, label=text, key=key))
        return tuple(options) if len(options) == len(items) else None

    def _key(self, node: Node, label: str) -> str | None:
        key = self.value(node)
        if isinstance(key, bool) or not isinstance(node, ScalarNode):
            key = None
        if isinstance(key, int | str) and str(key) in {str(d) for d in range(1, 10)}:
            return str(key)
        self.error(node, f"{label}: key must be one keypad digit, 1 to 9, not {node.value}")
        return None

    def _when(self, node: Node, source: str, index: int, prefix: str) -> Condition | None:
        try:
            condition = parse_when(source)
        except WhenSyntaxError as exc:
            self.report(node, f"{prefix}when: {exc.message}", at=_at(node, exc.offset))
            return None
        for c in condition.comparisons():
            at = _at(node, c.offset)
            if c.name not in self._ids:
                self.report(
                    node,
                    f"{prefix}when names '{c.name}', which is not a question of this flow",
                    at=at,
                )
            elif self._ids[c.name] >= index:
                self.report(
                    node,
                    f"{prefix}when names '{c.name}', which is not asked before this question;"
                    " only earlier questions may be named",
                    at=at,
                )
            elif (target := self._read.get(c.name)) is not None:
                if not target.answerable:
                    self.report(
                        node,
                        f"{prefix}when names '{c.name}', a message question, which has no answer",
                        at=at,
                    )
                    continue
                for problem in check_comparison(c, target):
                    self.report(
                        node,
                        f"{prefix}when: {problem.message}",
                        problem.severity,
                        _at(node, problem.offset),
                    )
        return condition


def _peek_id(node: Node) -> str | None:
    """A question's id as written, before it is checked, to tell later ids from unknown."""
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if (
            isinstance(key_node, ScalarNode)
            and key_node.value == "id"
            and isinstance(value_node, ScalarNode)
        ):
            return str(value_node.value)
    return None


def _at(node: Node, offset: int) -> tuple[int, int]:
    """The file position of ``offset`` into a `when` source written on one line."""
    line, col = position(node)
    style = getattr(node, "style", None)
    if style in (None, "'", '"') and node.start_mark.line == node.end_mark.line:
        return line, col + offset + (1 if style else 0)
    return line, col
