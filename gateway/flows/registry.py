"""The flows the gateway serves: every valid file of the flows directory, by id.

Files are read in name order. A file with errors is refused whole and the others still
load; so is a file whose flow id or start keyword an earlier file already uses (the error
names that file), so that which flow answers an id or a keyword never depends on chance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.flows.errors import FlowError
from gateway.flows.loader import LoadResult, load_flow_file
from gateway.flows.model import Flow

FLOW_SUFFIXES = (".yaml", ".yml")


def flow_files(directory: Path) -> list[Path]:
    """The flow files of a directory (``*.yaml`` and ``*.yml``), sorted by name."""
    return sorted(p for p in directory.iterdir() if p.suffix in FLOW_SUFFIXES and p.is_file())


@dataclass
class FlowRegistry:
    flows: dict[str, Flow] = field(default_factory=dict)
    refused: dict[Path, list[FlowError]] = field(default_factory=dict)
    warnings: dict[Path, list[FlowError]] = field(default_factory=dict)
    #: Every file read, valid or not, in the order read.
    files: list[Path] = field(default_factory=list)
    _keywords: dict[str, Flow] = field(default_factory=dict, repr=False)

    @classmethod
    def load_directory(cls, path: Path) -> FlowRegistry:
        """Load every flow file in ``path``; a missing directory is one refusal, not a crash."""
        if not path.is_dir():
            registry = cls()
            reason = "does not exist" if not path.exists() else "is not a directory"
            registry.refused[path] = [
                FlowError(str(path), 1, 1, f"flows directory {reason}; create it or set FLOWS_DIR")
            ]
            return registry
        return cls.load_files(flow_files(path))

    @classmethod
    def load_files(cls, paths: Iterable[Path]) -> FlowRegistry:
        """Load the given files as one set: ids and start keywords must be unique across them."""
        registry = cls()
        for path in sorted(paths, key=str):
            registry.add(path, load_flow_file(path))
        return registry

    def add(self, path: Path, result: LoadResult) -> None:
        """Take in one file's result, refusing it if it clashes with a flow already taken."""
        self.files.append(path)
        if result.warnings:
            self.warnings[path] = list(result.warnings)
        if result.flow is None:
            self.refused[path] = list(result.errors)
            return
        flow = result.flow
        clashes: list[FlowError] = []
        if flow.id in self.flows:
            line, col = result.id_position
            other = self.flows[flow.id].source_path
            clashes.append(
                FlowError(str(path), line, col, f"flow id '{flow.id}' is already used by {other}")
            )
        for word in flow.start_keywords:
            owner = self._keywords.get(word.upper())
            if owner is not None:
                line, col = result.keyword_positions.get(word, (1, 1))
                clashes.append(
                    FlowError(
                        str(path),
                        line,
                        col,
                        f"start keyword '{word}' is already used by flow '{owner.id}'"
                        f" in {owner.source_path}",
                    )
                )
        if clashes:
            self.refused[path] = clashes
            return
        self.flows[flow.id] = flow
        for word in flow.start_keywords:
            self._keywords[word.upper()] = flow

    def get(self, flow_id: str) -> Flow | None:
        return self.flows.get(flow_id)

    def by_keyword(self, word: str) -> Flow | None:
        """The flow an SMS of this one word starts (case-insensitive), if any."""
        return self._keywords.get(word.strip().upper())
