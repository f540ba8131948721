"""Engine steps per second on a 15-question flow, one core; baseline: a trivial call loop.

Run: .venv/bin/python bench/engine_steps.py
"""

from __future__ import annotations

import statistics
import time

from gateway.engine.engine import new_state, step
from gateway.engine.types import Event
from gateway.flows.model import Flow, Option, Question

RUNS = 7
SURVEYS = 400


def build_flow() -> Flow:
    options = tuple(Option(v, {"en": v.title()}, str(n)) for n, v in enumerate(["a", "b", "c"], 1))
    questions = [
        Question(id=f"q{n}", type="rating", prompt={"en": f"Statement {n}."}) for n in range(12)
    ]
    questions.append(Question(id="yn", type="yesno", prompt={"en": "Yes or no?"}))
    questions.append(
        Question(id="why", type="choice", multiple=True, prompt={"en": "Why?"}, options=options)
    )
    questions.append(Question(id="comment", type="text", optional=True, prompt={"en": "More?"}))
    return Flow(
        id="bench", version=1, title={"en": "Bench"}, agency="bench", questions=tuple(questions)
    )


def one_survey(flow: Flow) -> int:
    state = new_state(flow, "sms", "en", {})
    replies = ["4"] * 12 + ["yes", "1,3", "fine"]
    steps = 1
    state = step(flow, state, Event("start")).state
    for reply in replies:
        state = step(flow, state, Event("text", reply)).state
        steps += 1
    assert state.status == "completed"
    return steps


def noop(x: int) -> int:
    return x


def main() -> None:
    flow = build_flow()
    rates = []
    for _ in range(RUNS):
        started = time.perf_counter()
        steps = sum(one_survey(flow) for _ in range(SURVEYS))
        rates.append(steps / (time.perf_counter() - started))
    calls = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for n in range(1_000_000):
            noop(n)
        calls.append(1_000_000 / (time.perf_counter() - started))
    print(f"engine steps/s (15 questions, SMS, median of {RUNS}): {statistics.median(rates):,.0f}")
    print(f"baseline trivial calls/s (median of {RUNS}): {statistics.median(calls):,.0f}")


if __name__ == "__main__":
    main()
