"""``POST /api/v1/surveys`` (start a survey) and ``GET /api/v1/surveys/<id>``."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy.orm import Session, selectinload

from gateway.api.auth import current_agency
from gateway.flows.registry import FlowRegistry
from gateway.http.errors import ApiError
from gateway.reach import attempts, interactions
from gateway.reach.quotas import QuotaCounter
from gateway.services import queue
from gateway.store.db import db_of
from gateway.store.models import Agency, Survey, new_survey_id, utcnow
from gateway.surveys.comment_readings import readings_json
from gateway.surveys.creation import (
    MAX_IDEMPOTENCY_KEY,
    Replayed,
    check_replay,
    create_survey,
    find_idempotent,
    request_hash,
)
from gateway.surveys.flow_versions import FlowSourceChanged, flow_source, record_flow_version
from gateway.surveys.input_policy import InputRefused, check_text, read_json
from gateway.surveys.serializers import survey_json
from gateway.surveys.trigger_requests import InvalidContact, TriggerError, validate_trigger

log = logging.getLogger(__name__)

bp = Blueprint("surveys", __name__)

LOADED = (
    selectinload(Survey.answers),
    selectinload(Survey.messages),
    selectinload(Survey.flow_version),
)


def _registry() -> FlowRegistry:
    # gateway.app imports this package to register it, so its flows_of is not imported here.
    registry: FlowRegistry = current_app.extensions["flows"]
    return registry


def json_body() -> Any:
    """The request's JSON body: 415 when not declared JSON, 400 when it does not parse,
    422 naming the field when :mod:`gateway.surveys.input_policy` refuses a value."""
    if not request.is_json:
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        )
    try:
        return read_json(request.get_data())
    except InputRefused as exc:
        raise ApiError(422, "invalid_field", exc.message, {"field": exc.field}) from exc
    except ValueError as exc:
        raise ApiError(400, "invalid_json", "the request body is not valid JSON") from exc


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise ApiError(
            400,
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
            {"field": "Idempotency-Key"},
        )
    try:  # it is stored with the survey or batch, and looked up by
        return check_text(key, "Idempotency-Key", MAX_IDEMPOTENCY_KEY)
    except InputRefused as exc:
        raise ApiError(
            400, "invalid_idempotency_key", exc.message, {"field": "Idempotency-Key"}
        ) from exc


def _load(session: Session, agency: Agency, survey_id: str) -> Survey | None:
    return session.scalars(
        sa.select(Survey)
        .where(Survey.id == survey_id, Survey.agency_id == agency.id)
        .options(*LOADED)
    ).first()


def _accepted(session: Session, survey: Survey, replayed: bool) -> Response:
    body = survey_json(survey)
    # Whether the interaction was offered a survey, and if not why (docs/reach.md).
    found = interactions.find_outcome(session, survey.id)
    if found is None:  # a survey recorded before interactions were
        found = interactions.outcome(survey.status, survey.failure_reason)
    body["offered"], body["reason"] = found
    body["attempts"] = attempts.attempts_json(session, survey)
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/surveys/{survey.id}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _trigger_error(error: TriggerError) -> ApiError:
    details = {"field": error.field} if error.field else None
    return ApiError(error.status, error.code, error.message, details)


@bp.post("/surveys")
def create() -> ResponseReturnValue:
    agency = current_agency()
    payload = json_body()
    key = _idempotency_key()
    body_hash = request_hash(payload)
    database = db_of(current_app)
    now = utcnow()
    try:
        with database.session() as session:
            if key is not None:
                earlier = find_idempotent(session, agency, key)
                if earlier is not None:
                    raise Replayed(check_replay(earlier, body_hash))
            trigger = validate_trigger(payload, agency, _registry(), now.date(), now=now)
            version = record_flow_version(session, trigger.flow, flow_source(trigger.flow))
            survey_id = new_survey_id()
            quotas = QuotaCounter(session, agency.id, now)
            survey = create_survey(
                session,
                trigger,
                agency,
                version,
                idempotency_key=key,
                body_hash=body_hash,
                now=now,
                survey_id=survey_id,
                declined=interactions.decline_reason(trigger, key or survey_id, quotas),
            )
            created: dict[str, Any] = {"id": survey.id, "status": survey.status}
            created["failure_reason"] = survey.failure_reason
            interactions.record(session, trigger, agency.id, created, now=now, idempotency_key=key)
            attempts.plan(
                session,
                survey,
                trigger.flow,
                fallback_to=trigger.fallback_to,
                fallback_from=trigger.fallback_from,
                now=now,
            )
    except InvalidContact as exc:  # still an interaction: counted, then refused
        with database.session() as session:
            interactions.record_invalid(session, exc, agency.id, now=now, idempotency_key=key)
        raise _trigger_error(exc) from exc
    except TriggerError as exc:
        raise _trigger_error(exc) from exc
    except FlowSourceChanged as exc:
        raise ApiError(
            503, "flow_changed", str(exc), {"field": "flow"}, {"Retry-After": "60"}
        ) from exc
    except Replayed as replay:
        survey_id = replay.survey_id
        with database.session() as session:
            return _accepted(session, _reload(session, agency, survey_id), replayed=True)

    with database.session() as session:
        survey = _reload(session, agency, survey_id)
        # The answer is the survey as accepted, read before it is handed on: without Redis
        # the first contact is made inside _enqueue, on a session of its own, and the
        # answer would otherwise mix this session's survey with that contact's attempts.
        accepted = _accepted(session, survey, replayed=False)
        if survey.status in ("queued", "scheduled"):
            _enqueue(session, survey)
        return accepted


def _reload(session: Session, agency: Agency, survey_id: str) -> Survey:
    survey = _load(session, agency, survey_id)
    if survey is None:  # committed a moment ago by this very request
        raise ApiError(500, "internal_error", "the survey just created could not be read back")
    return survey


def _enqueue(session: Session, survey: Survey) -> None:
    """Hand the committed survey to the job queue.

    Redis being down loses nothing: the survey is committed as ``queued`` (or
    ``scheduled``) and the workers' sweeper starts it once Redis is back, so the trigger
    is still accepted.
    """
    try:
        queue.enqueue_start(current_app, survey.id, survey.send_at)
    except RedisError:
        log.warning(
            "survey %s not queued (Redis unavailable); the sweeper will start it", survey.id
        )
    except Exception as exc:
        log.exception("could not enqueue survey %s", survey.id)
        survey.status = "failed"
        survey.failure_reason = f"could not be queued for sending: {exc}"
        session.commit()
        raise ApiError(
            503,
            "queue_unavailable",
            "the survey was recorded but could not be queued for sending; "
            "retry with a new Idempotency-Key",
            {"id": survey.id},
            {"Retry-After": "30"},
        ) from exc


@bp.get("/surveys/<survey_id>")
def show(survey_id: str) -> ResponseReturnValue:
    agency = current_agency()
    with db_of(current_app).session() as session:
        survey = _load(session, agency, survey_id)
        if survey is None:
            raise ApiError(
                404, "survey_not_found", f"no survey {survey_id!r} for agency {agency.slug!r}"
            )
        body = survey_json(survey)
        body["attempts"] = attempts.attempts_json(session, survey)
        body["comments"] = readings_json(session, [survey.id]).get(survey.id, {})
        return jsonify(body)
