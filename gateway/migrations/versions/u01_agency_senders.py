"""Add agency settings: senders, voice numbers, Twilio accounts and email identity.

Revision ID: u01_agency_senders
Revises: t01_staff_sessions
Create Date: 2026-12-08 00:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "u01_agency_senders"
down_revision: str | None = "t01_staff_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agencies") as batch:
        batch.add_column(sa.Column("display_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("help_text", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("email_from", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("email_reply_to", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("quiet_hours", sa.String(length=11), nullable=True))
        batch.add_column(sa.Column("twilio_account_sid", sa.String(length=34), nullable=True))
        batch.add_column(sa.Column("twilio_auth_token", sa.Text(), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_agencies_twilio_account_sid"), ["twilio_account_sid"]
        )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "agency_senders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=34), nullable=True),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_agency_senders_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_senders")),
        sa.UniqueConstraint("channel", "address", name=op.f("uq_agency_senders_channel_address")),
    )
    op.create_index(op.f("ix_agency_senders_agency_id"), "agency_senders", ["agency_id"])
    op.create_table(
        "agency_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("contact_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("keyword", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_agency_opt_outs_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_opt_outs")),
        sa.UniqueConstraint(
            "agency_id", "contact_hash", name=op.f("uq_agency_opt_outs_agency_id_contact_hash")
        ),
    )
    op.create_index(op.f("ix_agency_opt_outs_contact_hash"), "agency_opt_outs", ["contact_hash"])


def downgrade() -> None:
    op.drop_index(op.f("ix_agency_opt_outs_contact_hash"), table_name="agency_opt_outs")
    op.drop_table("agency_opt_outs")
    op.drop_index(op.f("ix_agency_senders_agency_id"), table_name="agency_senders")
    op.drop_table("agency_senders")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("admin")
    with op.batch_alter_table("agencies") as batch:
        batch.drop_constraint(op.f("uq_agencies_twilio_account_sid"), type_="unique")
        for column in (
            "twilio_auth_token",
            "twilio_account_sid",
            "quiet_hours",
            "email_reply_to",
            "email_from",
            "help_text",
            "display_name",
        ):
            batch.drop_column(column)
