"""Migration h01_in_place_updates on existing data: closed surveys learn when they closed
(the contact erasure reads it), open ones stay unclosed; the downgrade gives back the
erasure's former index and keeps every survey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command

from gateway.store.db import Database, alembic_config, upgrade
from tests.reports.test_first_answered_migration import as_utc, insert

BEFORE = "k01_scale"
REVISION = "h01_in_place_updates"
CREATED = datetime(2026, 10, 1, 9, tzinfo=UTC)
COMPLETED = CREATED + timedelta(minutes=4)
LAST_CHANGE = CREATED + timedelta(days=2)


def seed(database: Database) -> None:
    surveys = [
        ("sv_completed", "completed", COMPLETED),
        ("sv_expired", "expired", None),
        ("sv_open", "started", None),
    ]
    with database.engine.begin() as conn:
        insert(conn, "agencies", id=1, slug="dmv", name="DMV")
        insert(conn, "flow_versions", id=1, flow_id="visit", version=1, agency_slug="dmv")
        for survey_id, status, completed_at in surveys:
            insert(conn, "surveys", id=survey_id, agency_id=1, flow_version_id=1,
                   flow_id="visit", channel="sms", status=status, contact="sealed",
                   created_at=CREATED, completed_at=completed_at,
                   updated_at=LAST_CHANGE)  # fmt: skip


def index_names(database: Database, table: str) -> set[str]:
    return {str(index["name"]) for index in sa.inspect(database.engine).get_indexes(table)}


def test_the_upgrade_records_closings_and_the_downgrade_restores_the_indexes(
    empty_url: str,
) -> None:
    upgrade(empty_url, BEFORE)
    database = Database(empty_url)
    try:
        seed(database)
        database.upgrade(REVISION)
        with database.engine.connect() as conn:
            closed = dict(conn.execute(sa.text("SELECT id, closed_at FROM surveys")).all())
        assert {k: as_utc(v) for k, v in closed.items()} == {
            "sv_completed": COMPLETED,
            "sv_expired": LAST_CHANGE,  # no record of the moment: its last change
            "sv_open": None,
        }
        assert {"ix_surveys_contact_kept_closed_at", "ix_surveys_closing_unrecorded"} <= (
            index_names(database, "surveys")
        )
        assert "ix_surveys_flow_id" not in index_names(database, "surveys")

        with database.engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), BEFORE)
        with database.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("surveys")}
            kept = conn.scalar(sa.text("SELECT count(*) FROM surveys"))
        assert "closed_at" not in columns
        assert kept == 3
        assert {"ix_surveys_contact_kept_updated_at", "ix_surveys_flow_id"} <= index_names(
            database, "surveys"
        )
        assert "ix_answers_answered_survey_id" in index_names(database, "answers")
        assert "ix_messages_agency_id" in index_names(database, "messages")
    finally:
        database.dispose()
