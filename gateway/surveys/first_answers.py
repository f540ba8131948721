"""When a survey was first answered (``surveys.first_answered_at``): the mark that counts a
respondent on the dashboard and in the A-11 report, kept by every path that stores answers."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.engine.types import StepResult


def first_answer_change(
    answered: bool, result: StepResult, dropped: Sequence[str] = ()
) -> bool | None:
    """How a step changes the mark of a survey that ``answered`` before it: True when it
    records the survey's first answered question, False when a changed or dropped answer
    leaves it none (the state mirrors the answer rows), None when the mark stays."""
    if not answered:
        return True if any(recorded.outcome == "answered" for recorded in result.answers) else None
    if dropped or any(recorded.outcome != "answered" for recorded in result.answers):
        if all(value is None for value in result.state.answers.values()):
            return False
    return None
