"""Server-rendered bar charts: inline SVG geometry computed here, drawn by a template macro.

Charts need no JavaScript; each has a ``<title>`` and ``<desc>`` and its data is always
shown in a table beside it, which is what screen readers are pointed to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 170
PLOT_WIDTH = 300
VALUE_WIDTH = 70


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as printed beside the bar
    y: int
    width: int


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int = LABEL_WIDTH


def bar_chart(title: str, items: Sequence[tuple[str, float | None]], unit: str = "") -> BarChart:
    """Horizontal bars scaled to the largest value; None values draw no bar."""
    largest = max((v for _, v in items if v is not None), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(items):
        shown = "–" if value is None else f"{value:g}{unit}"
        width = 0 if value is None else round(PLOT_WIDTH * value / largest)
        short = label if len(label) <= 24 else label[:23] + "…"
        bars.append(Bar(short, value or 0, shown, index * (BAR_HEIGHT + GAP), width))
    summary = "; ".join(f"{b.label}: {b.shown}" for b in bars) or "no data"
    height = max(len(bars) * (BAR_HEIGHT + GAP), BAR_HEIGHT)
    return BarChart(
        title=title,
        description=f"Bar chart of {title.lower()}. {summary}.",
        bars=tuple(bars),
        width=LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH,
        height=height,
    )
