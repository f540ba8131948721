"""Add service-recovery cases and their history.

Revision ID: u02_cases
Revises: u01_agency_senders
Create Date: 2026-12-08 00:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "u02_cases"
down_revision: str | None = "u01_agency_senders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_OPEN = "status <> 'resolved'"
REPLY_WAITING = "reply_due_at IS NOT NULL"


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.String(length=32), nullable=False),
        sa.Column("flow_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("office", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolution", sa.String(length=64), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("opened_by", sa.String(length=340), nullable=False),
        sa.Column("contact_consent", sa.Boolean(), nullable=False),
        _time("opened_at"),
        _time("due_at"),
        _time("first_action_at", nullable=True),
        _time("resolved_at", nullable=True),
        _time("escalated_at", nullable=True),
        _time("replied_at", nullable=True),
        _time("reply_due_at", nullable=True),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_cases_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_cases_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["staff_members.id"],
            name=op.f("fk_cases_assignee_id_staff_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("survey_id", name=op.f("uq_cases_survey_id")),
    )
    op.create_index("ix_cases_agency_id_status_due_at", "cases", ["agency_id", "status", "due_at"])
    op.create_index("ix_cases_agency_id_opened_at", "cases", ["agency_id", "opened_at"])
    op.create_index(
        "ix_cases_agency_id_assignee_id_status", "cases", ["agency_id", "assignee_id", "status"]
    )
    op.create_index(
        "ix_cases_open_due_at",
        "cases",
        ["due_at"],
        postgresql_where=sa.text(CASE_OPEN),
        sqlite_where=sa.text(CASE_OPEN),
    )
    op.create_index(
        "ix_cases_reply_due_at",
        "cases",
        ["reply_due_at"],
        postgresql_where=sa.text(REPLY_WAITING),
        sqlite_where=sa.text(REPLY_WAITING),
    )
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        _time("at"),
        sa.Column("actor", sa.String(length=340), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_case_events_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_case_events_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    op.create_index("ix_case_events_case_id_id", "case_events", ["case_id", "id"])
    op.create_table(
        "case_links",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("linked_id", sa.String(length=32), nullable=False),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_links_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["linked_id"],
            ["cases.id"],
            name=op.f("fk_case_links_linked_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "linked_id", name=op.f("pk_case_links")),
    )
    op.create_table(
        "case_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        _time("sent_at"),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_case_digests_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_digests")),
        sa.UniqueConstraint(
            "agency_id", "team", "day", name=op.f("uq_case_digests_agency_id_team_day")
        ),
    )
    op.create_table(
        "case_low_scores",
        sa.Column("survey_id", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.String(length=64), nullable=False),
        _time("created_at"),
        sa.Column("has_case", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_case_low_scores_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_case_low_scores_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("survey_id", name=op.f("pk_case_low_scores")),
    )
    op.create_index(
        "ix_case_low_scores_agency_id_created_at",
        "case_low_scores",
        ["agency_id", "created_at"],
        postgresql_include=["flow_id", "has_case"],
    )


def downgrade() -> None:
    op.drop_index("ix_case_low_scores_agency_id_created_at", table_name="case_low_scores")
    op.drop_table("case_low_scores")
    op.drop_table("case_digests")
    op.drop_table("case_links")
    op.drop_index("ix_case_events_case_id_id", table_name="case_events")
    op.drop_table("case_events")
    for name in (
        "ix_cases_reply_due_at",
        "ix_cases_open_due_at",
        "ix_cases_agency_id_assignee_id_status",
        "ix_cases_agency_id_opened_at",
        "ix_cases_agency_id_status_due_at",
    ):
        op.drop_index(name, table_name="cases")
    op.drop_table("cases")
