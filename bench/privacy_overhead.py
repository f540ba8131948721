"""Benchmark: what sealing and hashing contacts costs the SMS reply path, in CPU.

Two measurements in one run, against a throwaway PostgreSQL database:

1. The primitives alone: microseconds per ``contact_hash``, ``seal`` and ``open_sealed``
   (median of 7 rounds of 20,000 calls).
2. The reply path, A/B: respondents answer their surveys through the WSGI callable (as
   bench/profile_webhooks.py does: CPU clock per request, PostgreSQL waits not counted),
   alternately with the real keys and with a stand-in keyring that stores addresses as
   they are (the gateway before contacts were sealed). Each side gets its own
   respondents, seeded under its own keyring; rounds alternate so that load from other
   processes falls on both. Medians and their ratio are printed.

    .venv/bin/python bench/privacy_overhead.py [--respondents 100] [--rounds 3]

Needs PostgreSQL (TEST_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loadgen, sms_inbound  # noqa: E402
from bench.profile_webhooks import (  # noqa: E402
    call,
    gateway_app,
    quiet_stderr,
    signed_environs,
)
from gateway.privacy import contacts  # noqa: E402
from gateway.store.db import db_of  # noqa: E402


class PlainKeyring(contacts.Keyring):
    """Stores addresses as given and looks them up by themselves: no cryptography."""

    def contact_hash(self, value: str) -> str:
        return contacts.normalize(value)

    def seal(self, value: str) -> str:
        return value

    def open(self, token: str) -> str:
        return token


def per_call_us(function: object, argument: str, calls: int = 20_000) -> float:
    rounds = []
    for _ in range(7):
        started = time.process_time()
        for _ in range(calls):
            function(argument)  # type: ignore[operator]
        rounds.append((time.process_time() - started) / calls * 1e6)
    return statistics.median(rounds)


def primitives() -> None:
    token = contacts.seal("+12025550123")
    print("primitives (CPU µs per call, median of 7 x 20,000):")
    print(f"  contact_hash  {per_call_us(contacts.contact_hash, '+12025550123'):6.2f}")
    print(f"  seal          {per_call_us(contacts.seal, '+12025550123'):6.2f}")
    print(f"  open_sealed   {per_call_us(contacts.open_sealed, token):6.2f}")


def replay(app: object, environs: list[dict[str, object]]) -> list[float]:
    each = []
    with quiet_stderr():
        for environ in environs:
            started = time.process_time()
            line, _body = call(app, environ)  # type: ignore[arg-type]
            each.append(time.process_time() - started)
            assert line.startswith("200"), line
    return each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=100, help="six replies each")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with loadgen.throwaway_database() as database_url:
        env = loadgen.gateway_env(database_url, ROOT / "bench/flows", LOG_FORMAT="text")
        os.environ.update(env)
        template = sms_inbound.seed_template(database_url)
        app = gateway_app(env)
        sealed = contacts.keyring()
        plain = PlainKeyring(sealed.hash_key, sealed.seal_keys)
        primitives()
        engine = sa.create_engine(database_url)
        samples: dict[str, list[float]] = {"sealed": [], "plain": []}
        tag = 900
        for round_ in range(args.rounds):
            for name, keyring in (("sealed", sealed), ("plain", plain)):
                contacts.install(keyring)
                tag += 1
                numbers = sms_inbound.clone_surveys(engine, template, str(tag), args.respondents)
                environs = signed_environs(sms_inbound.replies(numbers))
                warm, timed = environs[:60], environs[60:]
                replay(app, warm)
                samples[name] += replay(app, timed)
                print(f"  round {round_ + 1} {name:6} {len(timed)} replies", flush=True)
        contacts.install(sealed)
        engine.dispose()
        db_of(app).dispose()
    on = statistics.median(samples["sealed"]) * 1000
    off = statistics.median(samples["plain"]) * 1000
    print("SMS reply path (CPU ms per request, median):")
    print(f"  contacts in clear (before)  {off:6.3f}")
    print(f"  contacts sealed and hashed  {on:6.3f}")
    print(f"  ratio                       {on / off:6.3f}")


if __name__ == "__main__":
    main()
