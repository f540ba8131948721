"""Opening a case: by a flow's alert rule when a survey completes, or by staff from any
response. A survey has at most one case; opening it again gives the one it has."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.cases import figures, history, notices, work
from gateway.cases.due import case_zone, due_at
from gateway.flows.model import CASE_PRIORITIES, AlertRule, CaseRule, Flow
from gateway.store.case_models import Case, LowScore
from gateway.store.models import Answer, Survey, utcnow
from gateway.surveys import events
from gateway.surveys.flow_versions import flow_for_version_id

#: A trigger's context value that records the respondent's consent to be contacted.
CONSENT_CONTEXT = "contact_consent"
#: Values of that context, or of the flow's consent question, that mean yes.
YES = ("yes", "true", "1")


def answers_of(session: Session, survey_id: str) -> dict[str, Any]:
    """The survey's answers, question id to value (None when skipped or unanswered)."""
    rows = session.execute(
        sa.select(Answer.question_id, Answer.value, Answer.outcome).where(
            Answer.survey_id == survey_id
        )
    )
    return {qid: (value if outcome == "answered" else None) for qid, value, outcome in rows}


def consented(flow: Flow, survey: Survey, answers: dict[str, Any]) -> bool:
    """Whether the respondent said the agency may contact them: a yes to the flow's
    ``cases.consent`` question, or ``contact_consent`` given yes in the trigger."""
    question = flow.cases.consent if flow.cases else None
    if question is not None and answers.get(question) == "yes":
        return True
    given = (survey.context or {}).get(CONSENT_CONTEXT)
    return isinstance(given, str) and given.strip().lower() in YES


def case_of_survey(session: Session, survey_id: str) -> Case | None:
    return session.scalars(sa.select(Case).where(Case.survey_id == survey_id)).first()


def open_case(
    session: Session,
    survey: Survey,
    flow: Flow,
    *,
    actor: str,
    now: datetime,
    rule: AlertRule | None = None,
    priority: str | None = None,
    case_rule: CaseRule | None = None,
) -> tuple[Case, bool]:
    """The survey's case, opened now if it has none; True when it was opened now.

    Its priority, due time and team come from ``case_rule`` when given, else from the
    alert ``rule``'s ``case:``; ``priority`` overrides the priority."""
    existing = case_of_survey(session, survey.id)
    if existing is not None:
        return existing, False
    if case_rule is None and rule is not None:
        case_rule = rule.case
    office = (survey.context or {}).get("office")
    case = Case(
        agency_id=survey.agency_id,
        survey_id=survey.id,
        flow_id=survey.flow_id,
        channel=survey.channel,
        language=survey.language,
        office=str(office)[:200] if office is not None else None,
        priority=priority or (case_rule.priority if case_rule else "normal"),
        status="new",
        team=case_rule.team if case_rule else None,
        rule=rule.name if rule is not None else None,
        opened_by=actor,
        contact_consent=consented(flow, survey, answers_of(session, survey.id)),
        opened_at=now,
        due_at=due_at(case_rule, now, case_zone(flow)),
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError:  # opened meanwhile by another request
        found = case_of_survey(session, survey.id)
        if found is None:
            raise
        return found, False
    session.flush()  # a low score recorded in this transaction is updated below
    session.execute(
        sa.update(LowScore).where(LowScore.survey_id == survey.id).values(has_case=True)
    )
    history.record(
        session,
        case,
        "opened",
        actor,
        now,
        detail=f"priority {case.priority}, team {case.team}"
        if case.team
        else f"priority {case.priority}",
    )
    notices.announce(session, case, notices.CASE_OPENED, None, now)
    return case, True


def _rank(rule: AlertRule) -> int:
    assert rule.case is not None
    return CASE_PRIORITIES.index(rule.case.priority)


def survey_completed(session: Session, survey: Survey) -> Case | None:
    """The completion listener: open a case when one of the flow's rules with ``case:``
    matches the answers (the most urgent of those that match)."""
    flow = flow_for_version_id(session, survey.flow_version_id)
    rules = [rule for rule in flow.alerts if rule.case is not None]
    if not rules:
        return None
    session.flush()
    answers = answers_of(session, survey.id)
    matched = [rule for rule in rules if rule.when.evaluate(answers)]
    if figures.is_low(flow, answers) and session.get(LowScore, survey.id) is None:
        session.add(
            LowScore(
                survey_id=survey.id,
                agency_id=survey.agency_id,
                flow_id=survey.flow_id,
                created_at=survey.created_at,
                has_case=False,
            )
        )
    if not matched:
        return None
    rule = max(matched, key=_rank)
    now = survey.completed_at or utcnow()
    case, _ = open_case(
        session, survey, flow, actor=history.RULE_ACTOR + rule.name, now=now, rule=rule
    )
    return case


def open_or_reopen(
    session: Session,
    survey: Survey,
    flow: Flow,
    *,
    actor: str,
    now: datetime,
    rule: AlertRule | None = None,
    priority: str | None = None,
    case_rule: CaseRule | None = None,
) -> tuple[Case, bool]:
    """:func:`open_case`, and a resolved case reopened: what crisis language needs, so
    that someone acts on it again however the case was closed before."""
    case, opened = open_case(
        session,
        survey,
        flow,
        actor=actor,
        now=now,
        rule=rule,
        priority=priority,
        case_rule=case_rule,
    )
    if not opened and case.status == "resolved":
        work.change_status(session, case, "new", None, actor, now)
    return case, opened


def init_app() -> None:
    """Have every completed survey checked against its flow's case rules."""
    events.on_completed(survey_completed)
