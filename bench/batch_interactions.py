"""What counting every interaction costs a batch trigger: seconds to accept
``POST /api/v1/surveys/batch`` with the interactions recorded, against the same batch in
the same run with their recording patched out (the baseline), alternating the two.

    .venv/bin/python -m bench.batch_interactions                  # 100,000 rows, 3 runs each
    .venv/bin/python -m bench.batch_interactions --rows 20000 --runs 5

PostgreSQL (a throwaway database) and Redis, as bench.batch_triggers; prints each run and
the medians and their ratio, of the wall time and of the web process's CPU time (the
database's own work shows only in the wall time).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import time
from typing import Any
from unittest import mock

from bench.batch_triggers import batch_gateway, json_body
from gateway.reach import interactions


def _nothing(*_args: Any, **_kwargs: Any) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    times: dict[str, list[float]] = {"recorded": [], "baseline": []}
    cpu: dict[str, list[float]] = {"recorded": [], "baseline": []}
    body = json_body(args.rows)
    with batch_gateway() as gateway:
        for run in range(args.runs):
            for kind in ("baseline", "recorded") if run % 2 else ("recorded", "baseline"):
                skipped = mock.patch.object(interactions, "insert_many", _nothing)
                with skipped if kind == "baseline" else contextlib.nullcontext():
                    started = time.perf_counter()
                    started_cpu = time.process_time()
                    response = gateway.post(body, "application/json")
                    elapsed = time.perf_counter() - started
                    used = time.process_time() - started_cpu
                assert response.status_code == 202, response.get_json()
                times[kind].append(elapsed)
                cpu[kind].append(used)
                print(
                    f"run {run + 1} {kind}: {elapsed:.2f} s ({used:.2f} s CPU in the web "
                    f"process) for {args.rows:,} rows"
                )
                gateway.reset("surveys, interactions")
    for label, figures in (("wall", times), ("CPU", cpu)):
        recorded = statistics.median(figures["recorded"])
        baseline = statistics.median(figures["baseline"])
        print(
            f"median {label}: {recorded:.2f} s recorded, {baseline:.2f} s baseline "
            f"(ratio {recorded / baseline:.2f}; {args.rows:,} rows)"
        )


if __name__ == "__main__":
    main()
