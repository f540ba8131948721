"""Store fixtures: the rows a survey needs (the migrated store is tests/support/databases.py)."""

from __future__ import annotations

import uuid

import pytest

from gateway.store.db import Database
from gateway.store.models import Agency, FlowVersion, Survey


def add_survey(database: Database, **overrides: object) -> str:
    """Commit a survey (with its own agency and flow version); return its id."""
    with database.session() as session:
        agency = Agency(slug=f"agency-{uuid.uuid4().hex[:8]}", name="Agency")
        session.add(agency)
        session.flush()
        version = FlowVersion(
            flow_id="visit",
            version=1,
            agency_slug=agency.slug,
            content_hash=uuid.uuid4().hex,
            source="id: visit\n",
            source_path="flows/visit.yaml",
        )
        session.add(version)
        session.flush()
        fields: dict[str, object] = {
            "agency_id": agency.id,
            "flow_version_id": version.id,
            "flow_id": "visit",
            "channel": "sms",
            "contact": "+12025550123",
            "language": "en",
            "status": "queued",
        }
        fields.update(overrides)
        survey = Survey(**fields)
        session.add(survey)
        session.flush()
        return survey.id


@pytest.fixture
def survey_id(database: Database) -> str:
    return add_survey(database)
