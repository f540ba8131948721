"""Migration r03_first_answered on existing data: surveys learn when they were first
answered, answers their survey's creation time, pending deliveries when they are due;
and the downgrade takes the columns away, keeping every answer."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from gateway.store.db import Database, alembic_config, upgrade

BEFORE = "p01_contact_privacy"
REVISION = "r03_first_answered"
CREATED = datetime(2026, 10, 1, 9, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return CREATED.replace(minute=minutes)


def insert(conn: sa.Connection, table: str, **values: object) -> None:
    """A row with the given values and every other required column of the table filled."""
    columns = sa.Table(table, sa.MetaData(), autoload_with=conn).columns
    row = dict(values)
    for column in columns:
        if column.name in row or column.nullable or column.primary_key and column.autoincrement:
            continue
        if isinstance(column.type, sa.DateTime):
            row[column.name] = CREATED
        elif isinstance(column.type, sa.Integer):
            row[column.name] = 0
        elif isinstance(column.type, sa.JSON):
            row[column.name] = {}
        else:
            row[column.name] = "x"
    table_ = sa.Table(table, sa.MetaData(), autoload_with=conn)
    conn.execute(sa.insert(table_), [row])


def seed(database: Database) -> None:
    with database.engine.begin() as conn:
        insert(conn, "agencies", id=1, slug="dmv", name="DMV")
        insert(conn, "flow_versions", id=1, flow_id="visit", version=1, agency_slug="dmv")
        for survey_id in ("sv_answered", "sv_skipped", "sv_silent"):
            insert(conn, "surveys", id=survey_id, agency_id=1, flow_version_id=1, flow_id="visit",
                   channel="sms", status="completed", created_at=CREATED)  # fmt: skip
        answers = [
            ("sv_answered", "comment", "answered", at(9)),
            ("sv_answered", "trust", "answered", at(5)),
            ("sv_answered", "went_well", "skipped", at(2)),
            ("sv_skipped", "trust", "skipped", at(3)),
        ]
        for survey_id, question_id, outcome, when in answers:
            insert(conn, "answers", survey_id=survey_id, question_id=question_id,
                   outcome=outcome, value=None, created_at=when, updated_at=when)  # fmt: skip
        insert(conn, "deliveries", id=1, agency_id=1, survey_id="sv_answered", flow_id="visit",
               event="alert", kind="webhook", target="https://h.example.gov", body="{}",
               status="pending", updated_at=at(7))  # fmt: skip
        insert(conn, "deliveries", id=2, agency_id=1, survey_id="sv_answered", flow_id="visit",
               event="alert", kind="webhook", target="https://h.example.gov", body="{}",
               status="delivered", updated_at=at(8))  # fmt: skip


def as_utc(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_the_upgrade_backfills_and_the_downgrade_keeps_every_answer(empty_url: str) -> None:
    upgrade(empty_url, BEFORE)
    database = Database(empty_url)
    try:
        seed(database)
        database.upgrade(REVISION)
        with database.engine.connect() as conn:
            firsts = dict(conn.execute(sa.text("SELECT id, first_answered_at FROM surveys")).all())
            copies = conn.execute(sa.text("SELECT DISTINCT survey_created_at FROM answers")).all()
            due = dict(conn.execute(sa.text("SELECT id, next_attempt_at FROM deliveries")).all())
        assert {k: as_utc(v) for k, v in firsts.items()} == {
            "sv_answered": at(5),  # the earliest answered answer, not the earlier skip
            "sv_skipped": None,
            "sv_silent": None,
        }
        assert [as_utc(v) for (v,) in copies] == [CREATED]
        assert {k: as_utc(v) for k, v in due.items()} == {1: at(7), 2: None}

        with database.engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), BEFORE)
        with database.engine.connect() as conn:
            survey_columns = {c["name"] for c in sa.inspect(conn).get_columns("surveys")}
            answer_columns = {c["name"] for c in sa.inspect(conn).get_columns("answers")}
            kept = conn.scalar(sa.text("SELECT count(*) FROM answers"))
        assert "first_answered_at" not in survey_columns
        assert "survey_created_at" not in answer_columns
        assert kept == 4
    finally:
        database.dispose()
