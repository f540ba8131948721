"""Jobs for worker tests: importable by a `gateway worker` subprocess (its cwd is the repo)."""

from __future__ import annotations

import time
from pathlib import Path


def slow_job(marker: str, seconds: float) -> str:
    """Write ``started`` to ``marker``, wait ``seconds``, then write ``finished``."""
    path = Path(marker)
    path.write_text("started")
    time.sleep(seconds)
    path.write_text("finished")
    return "done"
