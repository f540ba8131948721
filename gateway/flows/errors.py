"""Problems found in a flow file, each pinned to a place in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class FlowError:
    """One problem in a flow file; ``line`` and ``col`` are 1-based.

    ``str()`` gives the ``file:line:col: message`` form editors and CI logs understand.
    """

    path: str
    line: int
    col: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        if self.severity == "warning":
            return f"{self.path}:{self.line}:{self.col}: warning: {self.message}"
        return f"{self.path}:{self.line}:{self.col}: {self.message}"

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.message)
