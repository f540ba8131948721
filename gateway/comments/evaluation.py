"""Precision and recall of a comment reader on a labelled evaluation set.

The set is JSON lines, one comment a line (``tests/comments/eval/en.jsonl``, ``es.jsonl``)::

    {"id": "en-0001", "language": "en", "text": "...", "pii": [{"kind": "ssn", "start": 10,
     "end": 21}], "themes": ["wait_time"], "sentiment": "negative", "crisis": null,
     "hard_negative": false}

How each label is counted:

- personal data: a labelled span is found when every character of it is masked (by a
  span of any kind: what matters is that it is not shown); a masked span is correct when it
  overlaps a labelled one. Recall by the labelled kind, precision by the masked kind.
- themes: per theme over comments, and micro-averaged over all themes (the F1 target).
- sentiment: per label, and the share of comments labelled right.
- crisis: routed or not against labelled or not; recall also per category, and the false
  alarms among the hard negatives (comments that use crisis words but are not crises).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.comments.reader import CommentReader, read_comment
from gateway.comments.redaction import Redactor

#: The targets the evaluation must meet (docs/comments.md).
TARGETS = {
    "pii recall ssn": 0.98,
    "pii recall phone": 0.98,
    "pii recall email": 0.98,
    "crisis recall": 0.95,
    "crisis precision": 0.5,
    "themes f1": 0.7,
}


@dataclass
class Counts:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        labelled = self.true_positive + self.false_negative
        return self.true_positive / labelled if labelled else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.true_positive + self.false_negative


@dataclass
class Report:
    comments: int = 0
    pii_recall: dict[str, Counts] = field(default_factory=dict)
    pii_precision: dict[str, Counts] = field(default_factory=dict)
    themes: dict[str, Counts] = field(default_factory=dict)
    sentiment: dict[str, Counts] = field(default_factory=dict)
    sentiment_right: int = 0
    crisis: Counts = field(default_factory=Counts)
    crisis_by_category: dict[str, Counts] = field(default_factory=dict)
    hard_negatives: int = 0
    hard_negative_alarms: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def themes_micro(self) -> Counts:
        total = Counts()
        for counts in self.themes.values():
            total.true_positive += counts.true_positive
            total.false_positive += counts.false_positive
            total.false_negative += counts.false_negative
        return total

    def figures(self) -> dict[str, float]:
        """The figures the targets are set on, by the targets' names."""
        out = {f"pii recall {k}": c.recall for k, c in self.pii_recall.items()}
        out["crisis recall"] = self.crisis.recall
        out["crisis precision"] = self.crisis.precision
        out["themes f1"] = self.themes_micro.f1
        return out

    def failed_targets(self) -> list[str]:
        figures = self.figures()
        return [
            f"{name}: {figures.get(name, 0.0):.3f} < {target}"
            for name, target in TARGETS.items()
            if figures.get(name, 0.0) < target
        ]

    def lines(self) -> list[str]:
        rows = [
            f"comments: {self.comments}",
            "",
            "label                       precision  recall   f1   n",
        ]

        def row(name: str, counts: Counts, precision: float | None = None) -> str:
            p = counts.precision if precision is None else precision
            return f"{name:<27} {p:9.3f} {counts.recall:7.3f} {counts.f1:5.3f} {counts.support:4d}"

        for kind in sorted(self.pii_recall):
            found = self.pii_precision.get(kind, Counts())
            rows.append(row(f"pii {kind}", self.pii_recall[kind], found.precision))
        for theme in sorted(self.themes):
            rows.append(row(f"theme {theme}", self.themes[theme]))
        rows.append(row("themes (micro)", self.themes_micro))
        for label in ("negative", "neutral", "positive"):
            rows.append(row(f"sentiment {label}", self.sentiment.get(label, Counts())))
        rows.append(row("crisis (routed)", self.crisis))
        for category in sorted(self.crisis_by_category):
            counts = self.crisis_by_category[category]
            rows.append(
                f"crisis {category:<20} {'':9} {counts.recall:7.3f} {'':5} {counts.support:4d}"
            )
        rows.append("")
        share = self.sentiment_right / self.comments if self.comments else 0.0
        rows.append(f"sentiment accuracy: {share:.3f}")
        rows.append(f"hard negatives routed: {self.hard_negative_alarms} of {self.hard_negatives}")
        return rows


def load_set(paths: Iterable[Path]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            records.extend(json.loads(line) for line in handle if line.strip())
    return records


def evaluate(
    records: Sequence[dict[str, Any]], redactor: Redactor, reader: CommentReader
) -> Report:
    report = Report()
    for record in records:
        report.comments += 1
        text = record["text"]
        reading = read_comment(text, record["language"], redactor, reader)
        _score_pii(report, record, reading.redaction.spans)
        _score_themes(report, record, set(reading.theme_ids))
        gold_sentiment = record["sentiment"]
        got = reading.sentiment.label
        report.sentiment_right += got == gold_sentiment
        for label in ("negative", "neutral", "positive"):
            counts = report.sentiment.setdefault(label, Counts())
            if got == label and gold_sentiment == label:
                counts.true_positive += 1
            elif got == label:
                counts.false_positive += 1
            elif gold_sentiment == label:
                counts.false_negative += 1
        gold_crisis = record.get("crisis")
        routed = reading.crisis.route
        if gold_crisis:
            by = report.crisis_by_category.setdefault(gold_crisis, Counts())
            if routed:
                report.crisis.true_positive += 1
                by.true_positive += 1
            else:
                report.crisis.false_negative += 1
                by.false_negative += 1
                report.misses.append(f"crisis missed: {record['id']}")
        elif routed:
            report.crisis.false_positive += 1
            report.misses.append(f"crisis false alarm: {record['id']} ({reading.crisis.explain()})")
        if record.get("hard_negative"):
            report.hard_negatives += 1
            report.hard_negative_alarms += routed
    return report


def _score_pii(report: Report, record: dict[str, Any], spans: Sequence[Any]) -> None:
    masked: set[int] = set()
    for span in spans:
        masked.update(range(span.start, span.end))
    gold = record["pii"]
    for item in gold:
        counts = report.pii_recall.setdefault(item["kind"], Counts())
        if all(i in masked for i in range(item["start"], item["end"])):
            counts.true_positive += 1
        else:
            counts.false_negative += 1
            report.misses.append(f"pii missed: {record['id']} {item['kind']}")
    for span in spans:
        counts = report.pii_precision.setdefault(span.kind, Counts())
        if any(span.start < item["end"] and item["start"] < span.end for item in gold):
            counts.true_positive += 1
        else:
            counts.false_positive += 1
            report.misses.append(f"pii over-masked: {record['id']} {span.kind}")


def _score_themes(report: Report, record: dict[str, Any], got: set[str]) -> None:
    gold = set(record["themes"])
    for theme in gold | got:
        counts = report.themes.setdefault(theme, Counts())
        if theme in gold and theme in got:
            counts.true_positive += 1
        elif theme in got:
            counts.false_positive += 1
            report.misses.append(f"theme extra: {record['id']} {theme}")
        else:
            counts.false_negative += 1
            report.misses.append(f"theme missed: {record['id']} {theme}")
