"""The CPU a survey page GET costs in-process, with its HTML compressed at different levels.

Builds the gateway (``create_app()`` on a throwaway PostgreSQL database, Redis left out:
the public pages' limit is counted in the process), opens ``--respondents`` surveys and
visits each once, then GETs every page again through the WSGI app with a browser's
``Accept-Encoding``, timing each request with the process's CPU clock (PostgreSQL's own
time is not counted). The settings take turns request by request, so that other work on
the machine weighs on each alike; each figure is the median of ``--rounds`` rounds.

    .venv/bin/python bench/web_page_cpu.py [--respondents 200] [--rounds 9]
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.store.db import db_of  # noqa: E402

#: Each setting's app config over the gateway's own (gateway/http/static_files.py).
SETTINGS: dict[str, dict[str, Any]] = {
    "not compressed": {"COMPRESS_MIMETYPES": []},
    "brotli quality 1 (the gateway's)": {},
    "brotli quality 4 (Flask-Compress's default)": {"COMPRESS_BR_LEVEL": 4},
}
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd", "Accept-Language": "en-US,en;q=0.9"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with loadgen.throwaway_database() as database:
        os.environ.update(loadgen.gateway_env(database, ROOT / "flows"))
        limits = {"WEB_ENTRY_LIMIT": 10**9, "PUBLIC_RATE_LIMIT": 10**9}
        apps = {
            name: create_app(None, {"TESTING": True, **limits, **extra})
            for name, extra in SETTINGS.items()
        }
        logging.getLogger().handlers[:] = [logging.StreamHandler(io.StringIO())]
        opener = next(iter(apps.values())).test_client()
        paths = [
            urlsplit(opener.get("/f/office-visit?location=bench").headers["Location"]).path
            for _ in range(args.respondents)
        ]
        cpu: dict[str, list[float]] = {name: [] for name in apps}
        sizes: dict[str, int] = {}
        for name, app in apps.items():
            client = app.test_client()
            for path in paths:  # the first visit starts each survey; warms each app up
                sizes[name] = len(client.get(path, headers=BROWSER).data)
        clients = {name: app.test_client() for name, app in apps.items()}
        for _ in range(args.rounds):
            spent = dict.fromkeys(apps, 0.0)
            for path in paths:
                for name, client in clients.items():
                    started = time.process_time()
                    client.get(path, headers=BROWSER)
                    spent[name] += time.process_time() - started
            for name in apps:
                cpu[name].append(spent[name] / len(paths) * 1000)
        for app in apps.values():
            db_of(app).dispose()
    print(f"survey page GET, CPU per request, medians of {args.rounds} rounds of {len(paths)}:")
    for name, times in cpu.items():
        print(f"  {name:45} {statistics.median(times):.3f} ms  ({sizes[name]} B sent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
