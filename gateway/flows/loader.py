"""Read a flow file into a :class:`~gateway.flows.model.Flow`, or say precisely why not.

The YAML is composed into nodes (which keep their line and column) and walked here, so
every problem is reported at the node that causes it, and all of them in one pass. A file
loads whole or not at all: ``LoadResult.flow`` is None as soon as there is one error.
The field-by-field checks are :class:`gateway.flows.reader.FlowReader`'s; this module
adds what needs the whole, valid flow (the answer instructions of
:mod:`gateway.flows.render`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gateway.flows.errors import FlowError
from gateway.flows.model import Flow
from gateway.flows.reader import FlowReader
from gateway.flows.render import render_question
from gateway.flows.segments import sms_segments

#: More answerable questions than this exceeds A-11's post-transaction burden limit.
MAX_QUESTIONS = 15
#: An SMS prompt longer than this many segments arrives split and costs more.
MAX_SMS_SEGMENTS = 2


@dataclass
class LoadResult:
    flow: Flow | None
    errors: list[FlowError]
    warnings: list[FlowError]
    #: Where the flow id and each start keyword are written, for cross-file checks.
    id_position: tuple[int, int] = (1, 1)
    keyword_positions: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def load_flow_file(path: Path) -> LoadResult:
    """Load and validate one flow file."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _failed(name, 1, 1, f"cannot read the file: {exc.strerror or exc}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        return _failed(name, line, col, "the file is not UTF-8 text; save it as UTF-8")
    return _load(text, name, hashlib.sha256(data).hexdigest())


def load_flow_text(text: str, path: str) -> LoadResult:
    """Load and validate a flow from its YAML text; ``path`` names it in messages."""
    return _load(text, path, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())


def _failed(path: str, line: int, col: int, message: str) -> LoadResult:
    return LoadResult(None, [FlowError(path, line, col, message)], [])


def _load(text: str, path: str, content_hash: str) -> LoadResult:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "not valid YAML"
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if exc.problem and exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            problem += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        return _failed(path, line, col, f"invalid YAML: {problem}")
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        return _failed(path, line, col, f"invalid YAML: character {exc.character!r} is not allowed")
    except yaml.YAMLError as exc:
        return _failed(path, 1, 1, f"invalid YAML: {exc}")
    except RecursionError:
        return _failed(path, 1, 1, "invalid YAML: nested too deeply")
    if root is None:
        return _failed(
            path, 1, 1, "the file is empty; a flow needs id, version, title, agency and questions"
        )

    reader = FlowReader(path)
    flow = reader.read(root, content_hash)
    result = LoadResult(
        None,
        sorted(reader.errors, key=lambda e: e.sort_key),
        reader.warnings,
        reader.id_position,
        reader.keyword_positions,
    )
    if flow is not None and not result.errors:
        result.flow = flow
        _warn_on_size(flow, reader, result)
    result.warnings.sort(key=lambda e: e.sort_key)
    return result


def _warn_on_size(flow: Flow, reader: FlowReader, result: LoadResult) -> None:
    """Warnings about what respondents get: too many questions, too long a text."""
    answerable = sum(1 for q in flow.questions if q.answerable)
    if answerable > MAX_QUESTIONS:
        line, col = reader.questions_position
        result.warnings.append(
            FlowError(
                flow.source_path,
                line,
                col,
                f"{answerable} questions to answer; A-11 Section 280 surveys ask at most "
                f"{MAX_QUESTIONS} (about 5 minutes of burden)",
                "warning",
            )
        )
    if "sms" not in flow.channels:
        return
    for question in flow.questions:
        if question.handoff is not None:
            continue  # never texted: SMS sends the web link in its place
        for language in flow.languages:
            text = render_question(flow, question, channel="sms", language=language, context=None)
            count = sms_segments(text)
            if count.segments <= MAX_SMS_SEGMENTS:
                continue
            line, col = reader.sms_text_positions[question.id]
            result.warnings.append(
                FlowError(
                    flow.source_path,
                    line,
                    col,
                    f"question '{question.id}': the SMS text in '{language}' needs "
                    f"{count.segments} segments ({count.units} {count.encoding} units with "
                    f"the answer instructions); keep it within {MAX_SMS_SEGMENTS} or give a "
                    "shorter 'sms' text",
                    "warning",
                )
            )
