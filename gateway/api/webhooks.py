"""``/api/v1/webhooks``: an agency's event subscriptions and the record of every delivery.

- ``POST /webhooks`` ``{"url", "events"?}`` subscribes; the signing secret is in this answer
  only.
- ``GET /webhooks`` lists the agency's subscriptions; ``DELETE /webhooks/{id}`` ends one.
- ``GET /webhooks/deliveries`` lists deliveries (alerts and events), newest first, with
  every attempt; ``?before=ID`` pages on.
- ``POST /webhooks/alert-secret`` replaces the secret that signs the flows' ``alerts:``
  webhooks and shows the new one once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload

from gateway.agencies import audit
from gateway.alerts.rules import alert_secret
from gateway.api.auth import current_agency
from gateway.http.errors import ApiError
from gateway.services import destinations
from gateway.store.db import db_of
from gateway.store.models import utcnow
from gateway.store.results_models import WEBHOOK_EVENTS, Delivery, WebhookSubscription
from gateway.surveys.input_policy import MAX_URL, InputRefused, read_json, whole_number
from gateway.surveys.serializers import timestamp

bp = Blueprint("webhooks", __name__)

MAX_SUBSCRIPTIONS = 10
#: The fields a subscription body may have.
FIELDS = ("url", "events")
#: The largest id a 64-bit column holds: ``before=`` beyond it names no delivery.
MAX_ID = 2**63 - 1
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_field", message, {"field": field})


def _subscription_json(sub: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "url": sub.url,
        "events": sub.events,
        "created_at": timestamp(sub.created_at),
    }


def _parse_body() -> tuple[str, list[str]]:
    body = None
    if request.is_json:
        try:
            body = read_json(request.get_data())
        except InputRefused as exc:
            raise _invalid(exc.field, exc.message) from exc
        except ValueError:
            body = None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", 'send a JSON object: {"url": ..., "events": [...]}')
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise _invalid(unknown[0], f"unknown field {unknown[0]!r}; fields are {', '.join(FIELDS)}")
    url = body.get("url")
    if not isinstance(url, str) or not url:
        raise _invalid("url", "url is required: the https:// address to post events to")
    if len(url) > MAX_URL:
        raise _invalid("url", f"url is longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- a port out of range raises here, not at delivery
    except ValueError as exc:
        raise _invalid("url", "url is not a URL") from exc
    if not parts.hostname:
        raise _invalid("url", "url must be an https:// URL")
    _check_destination(url)
    events = body.get("events", ["survey.completed"])
    if not isinstance(events, list) or not events or any(e not in WEBHOOK_EVENTS for e in events):
        raise _invalid("events", f"events must be a non-empty list of {', '.join(WEBHOOK_EVENTS)}")
    return url, list(dict.fromkeys(events))


def _check_destination(url: str) -> None:
    """Refuse a URL the deliveries could not be sent to: not https, or a host that is
    (or now resolves to) a loopback, private or link-local address. A name that does not
    resolve yet is kept: every delivery checks the address again."""
    allowlist = current_app.extensions["settings"].outbound_allowlist
    try:
        destinations.checked(url, allowlist)
    except destinations.DestinationRefused as exc:
        raise _invalid("url", f"url {exc}") from exc
    except destinations.NameNotResolved:
        return


@bp.post("/webhooks")
def subscribe() -> ResponseReturnValue:
    agency = current_agency()
    url, events = _parse_body()
    with db_of(current_app).session() as session:
        active = session.scalar(
            sa.select(sa.func.count()).where(
                WebhookSubscription.agency_id == agency.id,
                WebhookSubscription.deleted_at.is_(None),
            )
        )
        if (active or 0) >= MAX_SUBSCRIPTIONS:
            raise ApiError(
                409,
                "too_many_webhooks",
                f"an agency may have {MAX_SUBSCRIPTIONS} subscriptions; delete one first",
            )
        sub = WebhookSubscription(agency_id=agency.id, url=url, events=events)
        session.add(sub)
        session.flush()
        audit.record(
            session,
            "webhook.subscribed",
            actor=audit.request_actor(),
            agency_id=agency.id,
            target=sub.id,
        )
        answer = {**_subscription_json(sub), "secret": sub.secret}
    return jsonify(answer), 201


@bp.get("/webhooks")
def subscriptions() -> ResponseReturnValue:
    agency = current_agency()
    with db_of(current_app).session() as session:
        rows = session.scalars(
            sa.select(WebhookSubscription)
            .where(
                WebhookSubscription.agency_id == agency.id,
                WebhookSubscription.deleted_at.is_(None),
            )
            .order_by(WebhookSubscription.created_at)
        )
        return jsonify(data=[_subscription_json(s) for s in rows])


@bp.delete("/webhooks/<subscription_id>")
def unsubscribe(subscription_id: str) -> ResponseReturnValue:
    agency = current_agency()
    with db_of(current_app).session() as session:
        sub = session.get(WebhookSubscription, subscription_id)
        if sub is None or sub.agency_id != agency.id or sub.deleted_at is not None:
            raise ApiError(404, "webhook_not_found", f"no webhook subscription {subscription_id!r}")
        sub.deleted_at = utcnow()
        audit.record(
            session,
            "webhook.deleted",
            actor=audit.request_actor(),
            agency_id=agency.id,
            target=sub.id,
        )
    return "", 204


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event": delivery.event,
        "rule": delivery.rule,
        "kind": delivery.kind,
        "target": delivery.target,
        "subscription_id": delivery.subscription_id,
        "survey_id": delivery.survey_id,
        "flow": delivery.flow_id,
        "status": delivery.status,
        "created_at": timestamp(delivery.created_at),
        "attempts": [a.as_json() for a in delivery.attempt_log],
    }


@bp.get("/webhooks/deliveries")
def deliveries() -> ResponseReturnValue:
    agency = current_agency()
    try:
        limit = whole_number(request.args.get("limit", str(DEFAULT_LIMIT)), "limit", 1, MAX_LIMIT)
    except InputRefused as exc:
        raise ApiError(400, "invalid_parameter", exc.message, {"field": "limit"}) from exc
    query = sa.select(Delivery).where(Delivery.agency_id == agency.id)
    before = request.args.get("before")
    if before is not None:
        try:
            before_id = whole_number(before, "before", 0, MAX_ID)
        except InputRefused as exc:
            raise ApiError(
                400, "invalid_parameter", "before must be a delivery id", {"field": "before"}
            ) from exc
        query = query.where(Delivery.id < before_id)
    query = (
        query.options(selectinload(Delivery.attempt_log))
        .order_by(Delivery.id.desc())
        .limit(limit + 1)
    )
    with db_of(current_app).session() as session:
        rows = list(session.scalars(query))
        page = rows[:limit]
        more = str(page[-1].id) if len(rows) > limit else None
        return jsonify(data=[delivery_json(d) for d in page], next_before=more)


@bp.post("/webhooks/alert-secret")
def rotate_alert_secret() -> ResponseReturnValue:
    agency = current_agency()
    with db_of(current_app).session() as session:
        secret = alert_secret(session, agency.id, rotate=True)
        audit.record(
            session, "alert_secret.rotated", actor=audit.request_actor(), agency_id=agency.id
        )
    return jsonify(secret=secret), 201
