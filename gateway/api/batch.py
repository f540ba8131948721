"""``POST /api/v1/surveys/batch``: up to 100,000 triggers in one request, as JSON
(``{"surveys": [...]}``) or CSV (``Content-Type: text/csv``)."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from gateway.api.auth import current_agency
from gateway.api.surveys import _idempotency_key
from gateway.flows.registry import FlowRegistry
from gateway.http.errors import ApiError
from gateway.reach import interactions
from gateway.reach.batches import (
    BatchError,
    create_batch,
    find_batch,
    rows_from_csv,
    rows_from_json,
    validate_rows,
)
from gateway.sending.batch_starts import enqueue_batch
from gateway.store.batch_models import SurveyBatch
from gateway.store.db import db_of
from gateway.store.models import Agency, utcnow
from gateway.store.sealing import keyed_digest
from gateway.surveys.flow_versions import FlowSourceChanged

log = logging.getLogger(__name__)

bp = Blueprint("batch", __name__)

#: 100,000 rows of about 150 bytes, with room for long context values.
MAX_BATCH_BYTES = 64 * 1024 * 1024


def _rows() -> list[Any]:
    mimetype = request.mimetype
    if mimetype == "text/csv":
        try:
            text = request.get_data().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ApiError(400, "invalid_csv", f"the CSV is not UTF-8: {exc}") from exc
        return rows_from_csv(text)
    if request.is_json:
        try:
            payload = json.loads(request.get_data())
        except RecursionError as exc:  # each row's own nesting is checked with the row
            raise ApiError(
                422, "invalid_field", "the body nests too deep", {"field": "body"}
            ) from exc
        except ValueError as exc:
            raise ApiError(
                400, "invalid_json", f"the request body is not valid JSON: {exc}"
            ) from exc
        return rows_from_json(payload)
    raise ApiError(
        415,
        "unsupported_media_type",
        'send the batch as application/json ({"surveys": [...]}) or as text/csv',
    )


def _result(batch: SurveyBatch, status: int, replayed: bool) -> Response:
    with db_of(current_app).session() as session:
        # How many rows were offered a survey, and why the others were not (docs/reach.md).
        outcome = interactions.batch_outcome(session, batch.id)
    response = jsonify(
        batch_id=batch.id,
        rows=batch.rows,
        accepted=batch.accepted,
        rejected=batch.rejected,
        **outcome,
    )
    response.status_code = status
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _replay(agency: Agency, key: str, body_hash: str) -> Response | None:
    with db_of(current_app).session() as session:
        earlier = find_batch(session, agency, key)
        if earlier is None:
            return None
        if earlier.request_hash != body_hash:
            raise ApiError(
                409,
                "idempotency_conflict",
                "this Idempotency-Key was already used with a different batch; "
                "use a new key for a new batch",
            )
        return _result(earlier, 202, replayed=True)


@bp.post("/surveys/batch")
def create_batch_view() -> ResponseReturnValue:
    request.max_content_length = MAX_BATCH_BYTES
    agency = current_agency()
    key = _idempotency_key()
    # Keyed, so that a stored hash of a short batch does not give its numbers away.
    body_hash = keyed_digest(request.mimetype.encode() + b"\0" + request.get_data())
    if key is not None and (replayed := _replay(agency, key, body_hash)) is not None:
        return replayed
    try:
        rows = _rows()
    except BatchError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from exc
    registry: FlowRegistry = current_app.extensions["flows"]
    now = utcnow()
    accepted, rejected = validate_rows(rows, agency, registry, now)
    try:
        with db_of(current_app).session() as session:
            created = create_batch(
                session,
                agency,
                accepted,
                rejected,
                rows=len(rows),
                idempotency_key=key,
                body_hash=body_hash,
                now=now,
            )
    except IntegrityError:
        # Another request with the same key committed first: answer as it did.
        if key is not None and (replayed := _replay(agency, key, body_hash)) is not None:
            return replayed
        raise
    except FlowSourceChanged as exc:
        raise ApiError(503, "flow_changed", str(exc), None, {"Retry-After": "60"}) from exc
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    enqueue_batch(app, created.queued, created.scheduled)
    return _result(created.batch, 202, replayed=False)
