"""The value of an answer: what the engine records for a question and what a `when`
condition (:mod:`gateway.flows.when`) compares."""

from __future__ import annotations

# int for rating and number, "yes"/"no" for yesno, the option value (or a list of values)
# for choice, str for text, None for unanswered.
AnswerValue = int | str | list[str] | None
