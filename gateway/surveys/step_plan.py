"""What storing one engine step writes: the rules every writer of a step follows.

A step (a reply texted, a key pressed, a web page submitted, a survey expiring) is stored
by two writers: the general path through the ORM
(:func:`gateway.surveys.lifecycle.apply_step` and the functions around it), and the
webhooks' common cases in one statement on libpq (:mod:`gateway.surveys.quick_steps`).
Neither decides anything itself: both write what :func:`plan_step` says, from the survey
as it was read (:class:`SurveyAsRead`) and the engine's :class:`StepResult`.

Also here, the other rules the two writers share: which steps the one-statement writer
may store (:func:`stored_in_one_statement`) and how outbound rows are numbered
(:func:`step_key`, :func:`step_number`). Nothing here reads or writes a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.engine.types import RecordedAnswer, StepResult
from gateway.flows.model import Flow
from gateway.store.models import FINAL_STATUSES
from gateway.surveys.first_answers import first_answer_change


@dataclass(frozen=True, slots=True)
class SurveyAsRead:
    """The survey columns the rules read, as they were before the step."""

    id: str
    status: str
    language: str
    #: The survey has an answered question (``first_answered_at`` is set).
    answered: bool


@dataclass(frozen=True, slots=True)
class StepWrites:
    """What storing a step writes."""

    #: The survey's new ``state`` (:meth:`~gateway.engine.types.SessionState.to_dict`).
    state: dict[str, Any]
    #: The other survey columns to set, by name, in the order they are set; always
    #: ``updated_at``.
    columns: dict[str, Any]
    #: The answers to upsert, one row per question.
    answers: tuple[RecordedAnswer, ...]
    #: Questions whose answer rows go (a changed answer made them no longer asked).
    dropped: tuple[str, ...]
    #: The step completed the survey (its alerts and webhooks are due).
    completed: bool


def plan_step(survey: SurveyAsRead, result: StepResult, now: datetime) -> StepWrites:
    """The writes that store ``result`` on ``survey`` at ``now``:

    - a ``sent`` survey that records an answer has started;
    - a survey the engine completed or expired takes that status, and one reaching a final
      status is closed then (``closed_at``, from which its contact's retention counts);
    - the first-answer mark follows the answers
      (:func:`gateway.surveys.first_answers.first_answer_change`);
    - a language chosen at the voice language menu becomes the survey's language.
    """
    columns: dict[str, Any] = {"updated_at": now}
    if result.answers and survey.status == "sent":
        columns["status"] = "started"
        columns["started_at"] = now
    ended = result.state.status
    if ended == "completed":
        columns["status"] = "completed"
        columns["completed_at"] = now
    elif ended == "expired":
        columns["status"] = "expired"
    if ended != "active" and survey.status not in FINAL_STATUSES:
        columns["closed_at"] = now
    change = first_answer_change(survey.answered, result, result.dropped)
    if change is not None:
        columns["first_answered_at"] = now if change else None
    language = result.state.language
    if language and language != survey.language:
        columns["language"] = language
    return StepWrites(
        state=result.state.to_dict(),
        columns=columns,
        answers=result.answers,
        dropped=result.dropped,
        completed=ended == "completed",
    )


def stored_in_one_statement(result: StepResult, flow: Flow, subscribed: bool) -> bool:
    """Whether storing ``result`` needs nothing beyond :func:`plan_step`'s writes and the
    step's own messages, so that the one-statement writer may store it: no answer dropped,
    no expiry, no hand-off to the web, no typed free-text answer (its redaction and reading
    are the general path's, :mod:`gateway.surveys.comment_arrival`), and no completion with
    alerts to check or webhooks (``subscribed``: the agency has subscriptions) to deliver."""
    if result.dropped or result.state.status == "expired":
        return False
    # (A phone survey's text answer is a recording's address; its transcription is read.)
    if result.state.channel != "voice" and any(
        answer.outcome == "answered" and flow.question(answer.question_id).type == "text"
        for answer in result.answers
    ):
        return False
    if result.state.handed_off or any(prompt.kind == "handoff" for prompt in result.prompts):
        return False
    return result.state.status != "completed" or not (flow.alerts or subscribed)


#: Between a survey's id and the number in the ``step_key`` of its outbound rows.
STEP_KEY_SEPARATOR = ":"


def step_key_prefix(survey_id: str) -> str:
    """The start shared by the ``step_key`` of every outbound row of the survey."""
    return f"{survey_id}{STEP_KEY_SEPARATOR}"


def step_key(survey_id: str, number: int) -> str:
    """The ``step_key`` of the survey's outbound row ``number``: a text's rows are numbered
    0, 1, 2... in the order written; a call's documents by their step."""
    return f"{survey_id}{STEP_KEY_SEPARATOR}{number}"


def step_number(key: str | None) -> int:
    """The number in a ``step_key`` (0 for none: a call before its first document)."""
    if not key:
        return 0
    return int(key.rsplit(STEP_KEY_SEPARATOR, 1)[1])
