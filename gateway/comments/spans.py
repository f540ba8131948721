"""A stretch of personal data found in a comment, and how overlapping finds are settled."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """``text[start:end]`` is personal data of ``kind`` (``ssn``, ``phone``, ``email``,
    ``address``, ``dob``, or an agency identifier's name)."""

    start: int
    end: int
    kind: str

    @property
    def mask(self) -> str:
        """What replaces the span in the stored text, e.g. ``[SSN]``."""
        return f"[{self.kind.upper()}]"

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "start": self.start, "end": self.end}


def settle(found: Iterable[Span]) -> tuple[Span, ...]:
    """Non-overlapping spans in text order: where two overlap, the earlier found (the
    detectors run most specific first) keeps its place and the other is merged into it."""
    kept: list[Span] = []
    for span in found:
        for index, other in enumerate(kept):
            if span.start < other.end and other.start < span.end:
                kept[index] = Span(
                    min(span.start, other.start), max(span.end, other.end), other.kind
                )
                break
        else:
            kept.append(span)
    kept.sort()
    merged: list[Span] = []
    for span in kept:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end), last.kind)
        else:
            merged.append(span)
    return tuple(merged)


def apply_masks(text: str, spans: tuple[Span, ...]) -> str:
    """``text`` with every span replaced by its mask."""
    parts: list[str] = []
    at = 0
    for span in spans:
        parts.append(text[at : span.start])
        parts.append(span.mask)
        at = span.end
    parts.append(text[at:])
    return "".join(parts)
