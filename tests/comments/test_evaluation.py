"""The evaluation set meets its targets (docs/comments.md), and is what it says it is."""

from __future__ import annotations

from pathlib import Path

from bench.comments_eval import CLAIM
from gateway.comments.evaluation import TARGETS, evaluate, load_set
from gateway.comments.reader import RulesReader
from gateway.comments.redaction import Redactor
from gateway.comments.taxonomy import load_taxonomy_file

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "tests" / "comments" / "eval"


def test_the_set_has_300_comments_in_each_language_with_crises_and_hard_negatives() -> None:
    for language in ("en", "es"):
        records = load_set([EVAL / f"{language}.jsonl"])
        assert len(records) >= 300
        assert {r["language"] for r in records} == {language}
        assert sum(bool(r["crisis"]) for r in records) >= 40
        assert sum(r["hard_negative"] for r in records) >= 15
        for record in records:
            for span in record["pii"]:
                assert 0 <= span["start"] < span["end"] <= len(record["text"])


def test_the_rules_meet_every_target_on_the_evaluation_set() -> None:
    loaded = load_taxonomy_file(ROOT / "taxonomy" / "default.yaml")
    assert loaded.taxonomy is not None
    records = load_set([EVAL / "en.jsonl", EVAL / "es.jsonl"])
    report = evaluate(records, Redactor([CLAIM]), RulesReader(loaded.taxonomy))
    assert report.failed_targets() == []
    assert set(TARGETS) <= set(report.figures())
