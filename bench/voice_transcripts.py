"""Print what a caller hears on each shipped voice flow, in English and Spanish.

    .venv/bin/python bench/voice_transcripts.py [--database-url URL] [FLOW_ID ...]

Each call runs through the real app (a throwaway SQLite database unless
``--database-url`` names a migrated one, such as PostgreSQL, where most steps take
gateway.voice.quick_step; simulated Twilio) with the call simulator of the tests, pressing
the middle key of each question and speaking a short comment at the beep. The output is
the transcript pasted into docs/voice.md; it is the same on either database.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.settings import Settings  # noqa: E402
from gateway.app import create_app, flows_of  # noqa: E402
from gateway.twilio.signature import DEVELOPMENT_AUTH_TOKEN  # noqa: E402
from tests.voice.call_simulator import CallSimulator, SimulatedCall, flask_transport  # noqa: E402

BASE_URL = "https://gateway.example.gov"
CONTEXT = {"office": "Downtown", "agent": "Maria", "queue": "benefits", "service": "passports"}
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE0"


def run_call(call: SimulatedCall) -> SimulatedCall:
    """Answer every question: the middle key, several keys then #, or a short recording."""
    for _ in range(40):
        if call.ended:
            break
        waiting = call.waiting
        if waiting.verb == "Record":
            call.record(RECORDING, 8)
        elif waiting.num_digits == 1:
            call.press("2")
        else:
            call.press("12#")
    return call


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="a migrated database")
    parser.add_argument("flows", nargs="*", metavar="FLOW_ID")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=args.database_url or f"sqlite:///{tmp}/voice.sqlite3",
            secret_key="transcripts",
            secret_key_generated=False,
            flows_dir=ROOT / "flows",
            public_base_url=BASE_URL,
            environment="development",
        )
        app = create_app(settings, {"TESTING": True})
        phone = CallSimulator(
            flask_transport(app.test_client()),
            auth_token=DEVELOPMENT_AUTH_TOKEN,
            base_url=BASE_URL,
        )
        flows = sorted(flows_of(app).flows.values(), key=lambda f: f.id)
        for flow in flows:
            if "voice" not in flow.channels or (args.flows and flow.id not in args.flows):
                continue
            for language in flow.languages:
                query = [f"flow={flow.id}", f"language={language}"]
                query += [f"{name}={CONTEXT.get(name, name)}" for name in flow.context]
                call = run_call(phone.dial("/twilio/voice?" + "&".join(query)))
                print(f"### {flow.id} ({language})\n")
                print("```")
                print("\n".join(call.transcript))
                print("```\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
