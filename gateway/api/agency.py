"""``/api/v1/agency``: the calling agency's own settings, for its admin keys only.

- ``GET /agency`` shows the settings and senders (never the Twilio auth token);
- ``PATCH /agency`` ``{"display_name": ..., "email_from": ..., ...}`` changes settings
  (null or "" goes back to the deployment's default);
- ``POST /agency/senders`` ``{"channel", "address", "service"?, "label"?, "default"?}``
  registers a sender; ``POST /agency/senders/{id}/default`` makes it its channel's
  default; ``DELETE /agency/senders/{id}`` removes it;
- ``PUT /agency/twilio-account`` ``{"account_sid", "auth_token"}`` sets the agency's own
  Twilio account (the token is sealed and never shown again); ``DELETE`` clears it.

Every change is recorded in the audit log. Another agency's sender id is answered as a
missing one. The deployment's own number and Messaging Service (``TWILIO_PHONE_NUMBER``,
``TWILIO_MESSAGING_SERVICE_SID``) are answered as registered already: the agencies without
senders of their own text from them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from gateway.agencies import audit, profiles, routes, senders
from gateway.api.auth import current_agency, require_admin
from gateway.http.errors import ApiError
from gateway.store.db import db_of
from gateway.store.models import Agency
from gateway.surveys.input_policy import InputRefused, read_json
from gateway.twilio.signature import owners_of

bp = Blueprint("agency", __name__)

SENDER_FIELDS = ("channel", "address", "service", "label", "default")
ACCOUNT_FIELDS = ("account_sid", "auth_token")


@bp.before_request
def _admins_only() -> None:
    require_admin()


def _body(fields: tuple[str, ...]) -> dict[str, Any]:
    body = None
    if request.is_json:
        try:
            body = read_json(request.get_data())
        except InputRefused as exc:
            raise ApiError(422, "invalid_field", exc.message, {"field": exc.field}) from exc
        except ValueError:
            body = None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "send a JSON object")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise ApiError(
            422,
            "invalid_field",
            f"unknown field {unknown[0]!r}; fields are {', '.join(fields)}",
            {"field": unknown[0]},
        )
    return body


@contextmanager
def _agency() -> Iterator[tuple[Session, Agency]]:
    """The caller's agency in a session committed on exit; refusals as API errors. The
    webhooks' cache of the senders' owners is refreshed after a change."""
    try:
        with db_of(current_app).session() as session:
            agency = session.get(Agency, current_agency().id)
            if agency is None:
                raise ApiError(404, "not_found", "the agency no longer exists")
            yield session, agency
        owners_of(current_app._get_current_object()).forget()  # type: ignore[attr-defined]
    except profiles.ProfileError as exc:
        raise ApiError(422, "invalid_field", str(exc), {"field": exc.field}) from exc
    except senders.SenderError as exc:
        raise ApiError(422, "invalid_sender", str(exc)) from exc
    except senders.SenderNotFound as exc:
        raise ApiError(404, "sender_not_found", str(exc)) from exc


def _record(session: Session, action: str, agency: Agency, target: str | None = None) -> None:
    audit.record(session, action, actor=audit.request_actor(), agency_id=agency.id, target=target)


@bp.get("/agency")
def show() -> ResponseReturnValue:
    with _agency() as (session, agency):
        return jsonify(profiles.describe(session, agency))


@bp.patch("/agency")
def update() -> ResponseReturnValue:
    changes = _body(tuple(profiles.PROFILE_FIELDS))
    with _agency() as (session, agency):
        changed = profiles.update_profile(session, agency, changes, exclusive=True)
        if changed:
            _record(session, "agency.updated", agency, ",".join(changed))
        shown = profiles.describe(session, agency)
    return jsonify(shown)


@bp.post("/agency/senders")
def add_sender() -> ResponseReturnValue:
    body = _body(SENDER_FIELDS)
    for name in ("channel", "address"):
        if not isinstance(body.get(name), str):
            raise ApiError(422, "invalid_field", f"{name} is required", {"field": name})
    for name in ("service", "label"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise ApiError(422, "invalid_field", f"{name} must be a string", {"field": name})
    if not isinstance(body.get("default", False), bool):
        raise ApiError(422, "invalid_field", "default must be true or false", {"field": "default"})
    with _agency() as (session, agency):
        sender = senders.add_sender(
            session,
            agency,
            body["channel"],
            body["address"],
            service=body.get("service"),
            label=body.get("label"),
            default=bool(body.get("default", False)),
            reserved=routes.deployment_senders(current_app.extensions["settings"]),
        )
        _record(session, "agency.sender_added", agency, f"{sender.channel} {sender.address}")
        shown = profiles.sender_json(sender)
    return jsonify(shown), 201


def _sender_id(raw: str) -> int:
    """The sender id in the path; one that is no id is answered as a missing sender."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ApiError(404, "sender_not_found", f"the agency has no sender with the id {raw!r}")
    return int(raw)


@bp.post("/agency/senders/<sender_id>/default")
def default_sender(sender_id: str) -> ResponseReturnValue:
    with _agency() as (session, agency):
        sender = senders.make_default(session, agency, _sender_id(sender_id))
        _record(session, "agency.sender_default", agency, f"{sender.channel} {sender.address}")
        shown = profiles.describe(session, agency)
    return jsonify(shown)


@bp.delete("/agency/senders/<sender_id>")
def remove_sender(sender_id: str) -> ResponseReturnValue:
    with _agency() as (session, agency):
        sender = senders.remove_sender(session, agency, _sender_id(sender_id))
        _record(session, "agency.sender_removed", agency, f"{sender.channel} {sender.address}")
    return "", 204


@bp.put("/agency/twilio-account")
def set_twilio_account() -> ResponseReturnValue:
    body = _body(ACCOUNT_FIELDS)
    for name in ACCOUNT_FIELDS:
        if not isinstance(body.get(name), str):
            raise ApiError(422, "invalid_field", f"{name} is required", {"field": name})
    with _agency() as (session, agency):
        profiles.set_twilio_account(session, agency, body["account_sid"], body["auth_token"])
        _record(session, "agency.twilio_set", agency, agency.twilio_account_sid)
        shown = profiles.describe(session, agency)
    return jsonify(shown)


@bp.delete("/agency/twilio-account")
def clear_twilio_account() -> ResponseReturnValue:
    with _agency() as (session, agency):
        if profiles.clear_twilio_account(session, agency):
            _record(session, "agency.twilio_cleared", agency)
    return "", 204
