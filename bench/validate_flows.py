"""How fast `gateway flows check` validates a directory of flow files.

Writes 1,000 flow files (every question type, two languages, `when` conditions) to a
temporary directory, validates them as `gateway flows check DIR` does, and prints the
median of several runs in files per second.

    .venv/bin/python bench/validate_flows.py [--files 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from gateway.flows.registry import FlowRegistry

FLOW = """\
id: bench-{n}
version: 1
title: {{en: Office visit {n}, es: Visita a la oficina {n}}}
agency: bench
languages: [en, es]
context: [office]
pra: {{omb_control_number: "1234-5678", expiration_date: 2099-09-30, burden_minutes: 2}}
expires_after: 24h
start_keywords: [VISIT{n}]
intro: {{en: "Thanks for visiting {{office}}.", es: "Gracias por visitar {{office}}."}}
questions:
  - id: satisfied
    type: rating
    a11: satisfaction
    prompt: {{en: I am satisfied with the service., es: Estoy satisfecho con el servicio.}}
  - id: helped
    type: yesno
    prompt: {{en: Did we help you today, es: Le ayudamos hoy}}
  - id: problems
    type: choice
    multiple: true
    when: satisfied <= 2 or helped == "no"
    prompt: {{en: What went wrong, es: Que salio mal}}
    options:
      - {{value: wait, label: {{en: Waiting time, es: Tiempo de espera}}}}
      - {{value: staff, label: {{en: Staff, es: Personal}}}}
      - {{value: other, label: {{en: Something else, es: Otra cosa}}}}
  - id: waited
    type: number
    min: 0
    max: 600
    optional: true
    when: problems contains "wait"
    prompt: {{en: Minutes waited, es: Minutos de espera}}
  - id: comment
    type: text
    max_length: 500
    optional: true
    prompt: {{en: Anything else, es: Algo mas}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for n in range(args.files):
            (directory / f"flow-{n:04d}.yaml").write_text(FLOW.format(n=n), encoding="utf-8")
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            registry = FlowRegistry.load_directory(directory)
            timings.append(time.perf_counter() - start)
            if registry.refused or len(registry.flows) != args.files:
                first = next(iter(registry.refused.values()), [])
                raise SystemExit(f"benchmark flows did not validate: {first[:3]}")
    median = statistics.median(timings)
    print(f"files: {args.files}, runs: {args.runs}")
    print(f"median: {median:.3f} s ({args.files / median:,.0f} files/s)")
    print(f"best: {min(timings):.3f} s, worst: {max(timings):.3f} s")


if __name__ == "__main__":
    main()
