"""What each survey's texts go out through: its agency's account and the sender recorded
on the survey (:mod:`gateway.agencies.routes`), and the pacing bucket of that sender."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from channels.base import SmsSender
from config.settings import Settings
from gateway.agencies import routes
from gateway.services.providers import providers_of
from gateway.store.models import Survey


@dataclass(frozen=True)
class Outlet:
    """The provider that sends a survey's texts, and the sender its pacing counts."""

    provider: SmsSender
    pacing_sender: str | None


def outlets_of(app: Flask, session: Session, survey_ids: Collection[str]) -> dict[str, Outlet]:
    """Each survey's :class:`Outlet` (surveys that do not exist are left out)."""
    settings: Settings = app.extensions["settings"]
    rows = session.execute(
        sa.select(Survey.id, Survey.agency_id, Survey.sender).where(Survey.id.in_(list(survey_ids)))
    ).all()
    made: dict[tuple[int, str | None], Outlet] = {}
    outlets: dict[str, Outlet] = {}
    for survey_id, agency_id, sender in rows:
        key = (agency_id, sender)
        if key not in made:
            route = routes.route_for(session, agency_id, sender, settings)
            made[key] = Outlet(
                providers_of(app).sms_via(route),
                sender or routes.deployment_sms_sender(settings),
            )
        outlets[survey_id] = made[key]
    return outlets


def outlet_of(app: Flask, session: Session, survey_id: str) -> Outlet:
    """The survey's :class:`Outlet`; the deployment's for a survey that does not exist."""
    found = outlets_of(app, session, [survey_id]).get(survey_id)
    if found is not None:
        return found
    settings: Settings = app.extensions["settings"]
    return Outlet(providers_of(app).sms, routes.deployment_sms_sender(settings))
