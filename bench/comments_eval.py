"""Precision and recall of the comment reader on the evaluation set (docs/comments.md).

    .venv/bin/python bench/comments_eval.py [--misses] [FILE.jsonl ...]

With no files, both shipped sets (tests/comments/eval/en.jsonl and es.jsonl), each on its
own and together. The evaluation's agency identifier is a claim number, CL-12345678.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gateway.comments.evaluation import evaluate, load_set
from gateway.comments.reader import RulesReader
from gateway.comments.redaction import Redactor
from gateway.comments.taxonomy import load_taxonomy_file
from gateway.flows.identifiers import compile_identifier

ROOT = Path(__file__).resolve().parent.parent
SETS = (ROOT / "tests/comments/eval/en.jsonl", ROOT / "tests/comments/eval/es.jsonl")
#: The identifier pattern the evaluation set's "claim" spans are written for.
CLAIM = compile_identifier("claim", r"\bCL-?\d{8}\b")


def main(argv: list[str]) -> int:
    show_misses = "--misses" in argv
    paths = [Path(arg) for arg in argv if not arg.startswith("--")] or list(SETS)
    loaded = load_taxonomy_file(ROOT / "taxonomy/default.yaml")
    assert loaded.taxonomy is not None, loaded.errors
    reader = RulesReader(loaded.taxonomy)
    redactor = Redactor([CLAIM])
    groups = [[path] for path in paths] + ([paths] if len(paths) > 1 else [])
    failed = False
    for group in groups:
        report = evaluate(load_set(group), redactor, reader)
        print(f"== {' + '.join(path.name for path in group)}")
        print("\n".join(report.lines()))
        if show_misses:
            print("\n".join(report.misses))
        problems = report.failed_targets()
        print("targets: " + ("met" if not problems else "MISSED: " + "; ".join(problems)))
        print()
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
