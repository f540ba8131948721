"""What storing a step writes (gateway.surveys.step_plan): pure inputs, expected writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.engine.types import Prompt, RecordedAnswer, SessionState, StepResult
from gateway.flows.answers import AnswerValue
from gateway.flows.model import AlertRule
from gateway.flows.when import parse_when
from gateway.surveys.step_plan import (
    SurveyAsRead,
    plan_step,
    step_key,
    step_key_prefix,
    step_number,
    stored_in_one_statement,
)
from tests.engine.flows import office_flow

NOW = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
ANSWERED = RecordedAnswer("satisfied", "4", 4, "answered")
SKIPPED = RecordedAnswer("minutes", None, None, "skipped")


def survey(status: str = "started", *, answered: bool = False) -> SurveyAsRead:
    return SurveyAsRead("sv_1", status, "en", answered)


def result(
    *answers: RecordedAnswer,
    status: str = "active",
    language: str | None = "en",
    kept: dict[str, AnswerValue] | None = None,
    dropped: tuple[str, ...] = (),
    prompts: tuple[Prompt, ...] = (),
    handed_off_from: str | None = None,
) -> StepResult:
    state = SessionState(
        channel="sms",
        language=language,
        answers=dict(kept if kept is not None else {a.question_id: a.value for a in answers}),
        status=status,  # type: ignore[arg-type]
        handed_off_from=handed_off_from,
    )
    return StepResult(state=state, prompts=prompts, answers=answers, dropped=dropped)


def test_a_reprompt_writes_the_state_and_the_time_only() -> None:
    step = result()
    writes = plan_step(survey(), step, NOW)
    assert writes.state == step.state.to_dict()
    assert writes.columns == {"updated_at": NOW}
    assert (writes.answers, writes.dropped, writes.completed) == ((), (), False)


def test_the_first_answer_starts_a_sent_survey_and_marks_it_answered() -> None:
    writes = plan_step(survey("sent"), result(ANSWERED), NOW)
    assert writes.columns == {
        "updated_at": NOW,
        "status": "started",
        "started_at": NOW,
        "first_answered_at": NOW,
    }
    assert writes.answers == (ANSWERED,)


def test_the_first_answer_mark_is_set_once() -> None:
    later = RecordedAnswer("comment", "Fine", "Fine", "answered")
    writes = plan_step(survey(answered=True), result(later, kept={"satisfied": 4}), NOW)
    assert writes.columns == {"updated_at": NOW}


def test_a_skip_is_not_a_first_answer() -> None:
    writes = plan_step(survey("sent"), result(SKIPPED), NOW)
    assert "first_answered_at" not in writes.columns
    assert writes.columns["status"] == "started"


def test_a_changed_answer_that_leaves_none_clears_the_mark() -> None:
    step = result(SKIPPED, kept={"minutes": None}, dropped=("satisfied",))
    writes = plan_step(survey(answered=True), step, NOW)
    assert writes.columns["first_answered_at"] is None
    assert writes.dropped == ("satisfied",)


def test_completion_sets_the_completed_and_closed_times() -> None:
    comment = RecordedAnswer("comment", "Fine", "Fine", "answered")
    writes = plan_step(survey(answered=True), result(comment, status="completed"), NOW)
    assert writes.columns == {
        "updated_at": NOW,
        "status": "completed",
        "completed_at": NOW,
        "closed_at": NOW,
    }
    assert writes.completed


def test_completion_with_the_first_answer_of_a_sent_survey_ends_completed() -> None:
    writes = plan_step(survey("sent"), result(ANSWERED, status="completed"), NOW)
    assert writes.columns["status"] == "completed"
    assert writes.columns["started_at"] == NOW
    assert writes.columns["first_answered_at"] == NOW
    assert list(writes.columns).index("closed_at") > list(writes.columns).index("status")


def test_expiry_closes_the_survey_without_completing_it() -> None:
    writes = plan_step(survey(), result(status="expired"), NOW)
    assert writes.columns == {"updated_at": NOW, "status": "expired", "closed_at": NOW}
    assert not writes.completed


def test_a_survey_closed_already_keeps_its_closing_time() -> None:
    writes = plan_step(survey("expired"), result(status="expired"), NOW)
    assert "closed_at" not in writes.columns


def test_a_language_chosen_at_the_menu_becomes_the_surveys() -> None:
    assert plan_step(survey(), result(language="es"), NOW).columns["language"] == "es"
    assert "language" not in plan_step(survey(), result(language=None), NOW).columns
    assert "language" not in plan_step(survey(), result(language="en"), NOW).columns


def test_a_plain_step_is_stored_in_one_statement() -> None:
    flow = office_flow()
    assert stored_in_one_statement(result(ANSWERED), flow, subscribed=False)
    assert stored_in_one_statement(result(ANSWERED, status="completed"), flow, subscribed=False)


@pytest.mark.parametrize(
    "step",
    [
        result(SKIPPED, dropped=("satisfied",)),
        result(status="expired"),
        result(prompts=(Prompt(kind="handoff", text="Continue at [link]"),)),
        result(handed_off_from="sms"),
    ],
    ids=["dropped", "expired", "handoff-prompt", "handed-off"],
)
def test_what_needs_more_than_the_plan_is_left_to_the_general_path(step: StepResult) -> None:
    assert not stored_in_one_statement(step, office_flow(), subscribed=False)


def test_a_completion_with_alerts_or_webhooks_is_left_to_the_general_path() -> None:
    done = result(ANSWERED, status="completed")
    rule = AlertRule(name="unhappy", when=parse_when("satisfied <= 2"), when_source="")
    assert not stored_in_one_statement(done, office_flow(alerts=(rule,)), subscribed=False)
    assert not stored_in_one_statement(done, office_flow(), subscribed=True)
    assert stored_in_one_statement(result(ANSWERED), office_flow(), subscribed=True)


def test_step_keys_number_a_surveys_outbound_rows() -> None:
    assert [step_key("sv_1", n) for n in range(3)] == ["sv_1:0", "sv_1:1", "sv_1:2"]
    assert step_key_prefix("sv_1") + "7" == step_key("sv_1", 7)
    assert [step_number(step_key("sv_1", n)) for n in (0, 1, 12)] == [0, 1, 12]
    assert step_number(None) == 0
