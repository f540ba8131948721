"""``/api/v1/cases``: an agency's service-recovery cases, for systems that work them.

- ``GET /cases?view=&flow=&office=&priority=&channel=&status=&cursor=&limit=`` lists them,
  most urgent first, ``{"data": [...], "next_cursor": ...}``;
- ``POST /cases`` ``{"survey_id", "priority"?}`` opens one from a response (or gives the
  survey's case);
- ``GET /cases/{id}`` reads one with its survey's answers, conversation, contact attempts,
  history and links;
- ``PATCH /cases/{id}`` changes it: ``status``, ``resolution``, ``assignee``, ``priority``,
  ``note``, ``link``. A refused change changes nothing;
- ``GET /cases/figures?from=&to=``: time to first action and to resolution per flow,
  office and priority, the share resolved in time, and the share of low scores with a case;
- ``POST /cases/{id}/replies`` ``{"template"}`` sends the respondent one of the flow's
  reply templates (:mod:`gateway.cases.replies`).

Another agency's case is 404, as an unknown one is.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from gateway.agencies import audit
from gateway.api.auth import current_agency
from gateway.api.params import bad_parameter, given_parameter
from gateway.api.surveys import json_body
from gateway.cases import documents, figures, inbox, opening, replies, work
from gateway.flows.model import CASE_PRIORITIES, CHANNELS
from gateway.http.errors import ApiError
from gateway.store.case_models import Case
from gateway.store.db import db_of
from gateway.store.models import Survey, utcnow
from gateway.surveys.flow_versions import flow_for_version_id
from gateway.surveys.input_policy import InputRefused, check_date, whole_number

bp = Blueprint("cases", __name__)

MAX_LIMIT = 200
OPEN_FIELDS = ("survey_id", "priority")


def _not_found(case_id: str) -> ApiError:
    return ApiError(404, "case_not_found", f"no case {case_id[:40]!r}")


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_field", message, {"field": field})


def _case(session: Session, case_id: str, *, lock: bool = False) -> Case:
    case = work.find(session, current_agency().id, case_id, lock=lock)
    if case is None:
        raise _not_found(case_id)
    return case


@bp.get("/cases")
def list_cases() -> ResponseReturnValue:
    args = request.args
    try:
        limit = whole_number(args.get("limit", str(inbox.PAGE_SIZE)), "limit", 1, MAX_LIMIT)
    except InputRefused as exc:
        raise bad_parameter("limit", exc.message) from exc
    try:
        filters = inbox.check(
            inbox.Filters(
                view=given_parameter("view") or "all",
                flow=given_parameter("flow"),
                office=given_parameter("office"),
                priority=given_parameter("priority"),
                channel=given_parameter("channel"),
                status=given_parameter("status"),
            ),
            CHANNELS,
        )
        if filters.view == "mine":
            raise inbox.FilterError("view", "an API key has no cases of its own: use assignee")
        with db_of(current_app).session() as session:
            rows, cursor = inbox.page(
                session,
                current_agency().id,
                None,
                filters,
                utcnow(),
                after=given_parameter("cursor"),
                limit=limit,
            )
            emails = documents.assignees(session, rows)
            data = [documents.case_json(c, emails) for c in rows]
    except inbox.FilterError as exc:
        raise bad_parameter(exc.field, exc.message) from exc
    return jsonify(data=data, next_cursor=cursor)


@bp.post("/cases")
def open_case() -> ResponseReturnValue:
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", 'send a JSON object: {"survey_id": ...}')
    unknown = sorted(set(body) - set(OPEN_FIELDS))
    if unknown:
        raise _invalid(unknown[0], f"unknown field {unknown[0]!r}; fields are survey_id, priority")
    survey_id = body.get("survey_id")
    if not isinstance(survey_id, str) or not survey_id:
        raise _invalid("survey_id", "survey_id is required: the survey the case is about")
    priority = body.get("priority", "normal")
    if priority not in CASE_PRIORITIES:
        raise _invalid("priority", f"priority must be one of {', '.join(CASE_PRIORITIES)}")
    agency = current_agency()
    with db_of(current_app).session() as session:
        survey = session.get(Survey, survey_id)
        if survey is None or survey.agency_id != agency.id:
            raise ApiError(404, "survey_not_found", f"no survey {survey_id[:40]!r}")
        flow = flow_for_version_id(session, survey.flow_version_id)
        case, opened = opening.open_case(
            session, survey, flow, actor=audit.request_actor(), now=utcnow(), priority=priority
        )
        document = documents.detail(session, case)
    return jsonify(document), 201 if opened else 200


@bp.get("/cases/<case_id>")
def read_case(case_id: str) -> ResponseReturnValue:
    with db_of(current_app).session() as session:
        return jsonify(documents.detail(session, _case(session, case_id)))


@bp.patch("/cases/<case_id>")
def update_case(case_id: str) -> ResponseReturnValue:
    body: Any = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "send a JSON object of the fields to change")
    with db_of(current_app).session() as session:
        case = _case(session, case_id, lock=True)
        try:
            work.apply_changes(session, case, body, audit.request_actor(), utcnow())
        except work.CaseError as exc:
            session.rollback()
            raise _invalid(exc.field, exc.message) from exc
        session.flush()
        document = documents.detail(session, case)
    return jsonify(document)


@bp.post("/cases/<case_id>/replies")
def reply(case_id: str) -> ResponseReturnValue:
    body: Any = json_body()
    if not isinstance(body, dict) or set(body) != {"template"}:
        raise ApiError(400, "invalid_json", 'send a JSON object: {"template": NAME}')
    template = body["template"]
    if not isinstance(template, str) or not template:
        raise _invalid("template", "template must name one of the flow's reply templates")
    with db_of(current_app).session() as session:
        case = _case(session, case_id, lock=True)
        try:
            replies.prepare(session, case, template, audit.request_actor(), utcnow())
        except work.CaseError as exc:
            session.rollback()
            raise _invalid(exc.field, exc.message) from exc
        replies.queue_after_commit(current_app, session, case.id)
        session.flush()
        document = documents.detail(session, case)
    return jsonify(document), 202


def _day(name: str) -> date | None:
    raw = given_parameter(name)
    if raw is None:
        return None
    try:
        return check_date(date.fromisoformat(raw), name)
    except ValueError as exc:  # InputRefused included
        raise bad_parameter(name, f"{name} must be a date such as 2026-10-01") from exc


@bp.get("/cases/figures")
def case_figures() -> ResponseReturnValue:
    agency = current_agency()
    start, end = figures.interval(_day("from"), _day("to"), utcnow().date())
    if end <= start:
        raise bad_parameter("from", "from must not be after to")
    with db_of(current_app).session() as session:
        found = figures.figures(session, agency.id, start, end)
    return jsonify(found.as_json())
