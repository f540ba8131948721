"""Respondents' contact addresses sealed at rest and found by a keyed hash.

Adds the sealed and hashed columns, seals and hashes the existing rows in batches (with the
keys the app uses: ``CONTACT_ENCRYPTION_KEYS`` and ``CONTACT_HASH_KEY``, else derived from
``SECRET_KEY``; see docs/privacy.md), then drops the plaintext columns. Opt-outs keep
only the hash.

Columns are added, dropped and renamed with plain ALTER TABLE, which SQLite (3.35+) and
PostgreSQL both run in place: rebuilding ``surveys`` on SQLite, as a batch operation
would, deletes the answers and messages that reference it while foreign keys are on.
``opt_outs``, which nothing references, is rebuilt.

Revision ID: p01_contact_privacy
Revises: r02_results_covering_indexes
Create Date: 2026-11-25 20:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from gateway.store.sealing import Keyring, keyring

revision: str = "p01_contact_privacy"
down_revision: str | None = "r02_results_covering_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
CONTACT_KEPT = (
    "contact IS NOT NULL AND status IN ('completed', 'expired', 'opted_out', 'failed', 'cancelled')"
)
UNMATCHED_KEPT = "survey_id IS NULL AND from_addr IS NOT NULL"


def _each_batch(sql: str, first: object) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of ``sql`` (selecting ``id`` first, ``id > :after``), BATCH at a time."""
    connection = op.get_bind()
    after = first
    while True:
        rows = [
            tuple(r) for r in connection.execute(sa.text(sql), {"after": after, "limit": BATCH})
        ]
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _seal(keys: Keyring, value: str | None) -> str | None:
    return keys.seal(value) if value else None


def _hash(keys: Keyring, value: str | None) -> str | None:
    return keys.contact_hash(value) if value else None


def _native(sql: str) -> None:
    op.execute(sa.text(sql))


def upgrade() -> None:
    keys = keyring()
    connection = op.get_bind()
    op.add_column("surveys", sa.Column("contact_sealed", sa.Text(), nullable=True))
    op.add_column("surveys", sa.Column("contact_hash", sa.String(length=64), nullable=True))
    op.add_column(
        "surveys", sa.Column("contact_erased_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("messages", sa.Column("from_sealed", sa.Text(), nullable=True))
    op.add_column("messages", sa.Column("to_sealed", sa.Text(), nullable=True))
    op.add_column("messages", sa.Column("contact_hash", sa.String(length=64), nullable=True))
    op.add_column("opt_outs", sa.Column("contact_hash", sa.String(length=64), nullable=True))

    for rows in _each_batch(
        "SELECT id, contact FROM surveys WHERE id > :after ORDER BY id LIMIT :limit", ""
    ):
        connection.execute(
            sa.text(
                "UPDATE surveys SET contact_sealed = :sealed, contact_hash = :hash WHERE id = :id"
            ),
            [
                {"id": id_, "sealed": _seal(keys, contact), "hash": _hash(keys, contact)}
                for id_, contact in rows
            ],
        )
    for rows in _each_batch(
        "SELECT id, direction, from_addr, to_addr FROM messages WHERE id > :after "
        "ORDER BY id LIMIT :limit",
        0,
    ):
        connection.execute(
            sa.text(
                "UPDATE messages SET from_sealed = :from_, to_sealed = :to, contact_hash = :hash "
                "WHERE id = :id"
            ),
            [
                {
                    "id": id_,
                    "from_": _seal(keys, from_),
                    "to": _seal(keys, to),
                    "hash": _hash(keys, from_ if direction == "inbound" else to),
                }
                for id_, direction, from_, to in rows
            ],
        )
    seen: set[str] = set()
    for rows in _each_batch(
        "SELECT id, contact FROM opt_outs WHERE id > :after ORDER BY id LIMIT :limit", 0
    ):
        keep: list[dict[str, Any]] = []
        duplicates: list[dict[str, Any]] = []
        for id_, contact in rows:
            hashed = keys.contact_hash(contact)
            # "A@x.gov" and "a@x.gov" are one address now: one opt-out is enough.
            (duplicates if hashed in seen else keep).append({"id": id_, "hash": hashed})
            seen.add(hashed)
        if keep:
            connection.execute(
                sa.text("UPDATE opt_outs SET contact_hash = :hash WHERE id = :id"), keep
            )
        if duplicates:
            connection.execute(sa.text("DELETE FROM opt_outs WHERE id = :id"), duplicates)

    op.drop_index("ix_surveys_contact_status", table_name="surveys")
    _native("ALTER TABLE surveys DROP COLUMN contact")
    _native("ALTER TABLE surveys RENAME COLUMN contact_sealed TO contact")
    _native("ALTER TABLE messages DROP COLUMN from_addr")
    _native("ALTER TABLE messages DROP COLUMN to_addr")
    _native("ALTER TABLE messages RENAME COLUMN from_sealed TO from_addr")
    _native("ALTER TABLE messages RENAME COLUMN to_sealed TO to_addr")
    with op.batch_alter_table("opt_outs", recreate="always") as batch:
        batch.drop_constraint("uq_opt_outs_contact", type_="unique")
        batch.drop_column("contact")
        batch.alter_column("contact_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_opt_outs_contact_hash", ["contact_hash"])

    op.create_index("ix_surveys_contact_hash_status", "surveys", ["contact_hash", "status"])
    op.create_index(
        "ix_surveys_contact_kept_updated_at",
        "surveys",
        ["updated_at"],
        postgresql_where=sa.text(CONTACT_KEPT),
        sqlite_where=sa.text(CONTACT_KEPT),
    )
    op.create_index(
        "ix_messages_unmatched_kept_created_at",
        "messages",
        ["created_at"],
        postgresql_where=sa.text(UNMATCHED_KEPT),
        sqlite_where=sa.text(UNMATCHED_KEPT),
    )


def downgrade() -> None:
    """Open the sealed contacts back into plaintext columns.

    An opt-out keeps only a hash; its address is recovered from a survey or message that
    still holds it. One whose address is erased everywhere cannot be: it is kept under
    ``hash:<hex>``, which no number matches, and the count is printed.
    """
    keys = keyring()
    connection = op.get_bind()
    op.drop_index("ix_messages_unmatched_kept_created_at", table_name="messages")
    op.drop_index("ix_surveys_contact_kept_updated_at", table_name="surveys")
    op.drop_index("ix_surveys_contact_hash_status", table_name="surveys")
    op.add_column("surveys", sa.Column("contact_plain", sa.String(length=320), nullable=True))
    op.add_column("messages", sa.Column("from_plain", sa.String(length=320), nullable=True))
    op.add_column("messages", sa.Column("to_plain", sa.String(length=320), nullable=True))
    op.add_column("opt_outs", sa.Column("contact", sa.String(length=320), nullable=True))

    known: dict[str, str] = {}
    for rows in _each_batch(
        "SELECT id, contact, contact_hash FROM surveys WHERE id > :after ORDER BY id LIMIT :limit",
        "",
    ):
        values = []
        for id_, sealed, hashed in rows:
            plain = keys.open(sealed) if sealed else ""
            if plain and hashed:
                known[hashed] = plain
            values.append({"id": id_, "plain": plain})
        connection.execute(
            sa.text("UPDATE surveys SET contact_plain = :plain WHERE id = :id"), values
        )
    for rows in _each_batch(
        "SELECT id, direction, from_addr, to_addr, contact_hash FROM messages "
        "WHERE id > :after ORDER BY id LIMIT :limit",
        0,
    ):
        values = []
        for id_, direction, from_, to, hashed in rows:
            from_plain = keys.open(from_) if from_ else None
            to_plain = keys.open(to) if to else None
            respondent = from_plain if direction == "inbound" else to_plain
            if respondent and hashed:
                known.setdefault(hashed, respondent)
            values.append({"id": id_, "from_": from_plain, "to": to_plain})
        connection.execute(
            sa.text("UPDATE messages SET from_plain = :from_, to_plain = :to WHERE id = :id"),
            values,
        )
    lost = 0
    for rows in _each_batch(
        "SELECT id, contact_hash FROM opt_outs WHERE id > :after ORDER BY id LIMIT :limit", 0
    ):
        values = []
        for id_, hashed in rows:
            recovered = known.get(hashed)
            lost += recovered is None
            values.append({"id": id_, "plain": recovered or f"hash:{hashed}"})
        connection.execute(sa.text("UPDATE opt_outs SET contact = :plain WHERE id = :id"), values)
    if lost:
        print(f"p01 downgrade: {lost} opt-out(s) kept only as a hash (their address is erased)")

    _native("ALTER TABLE surveys DROP COLUMN contact")
    _native("ALTER TABLE surveys DROP COLUMN contact_hash")
    _native("ALTER TABLE surveys DROP COLUMN contact_erased_at")
    _native("ALTER TABLE surveys RENAME COLUMN contact_plain TO contact")
    _native("ALTER TABLE messages DROP COLUMN from_addr")
    _native("ALTER TABLE messages DROP COLUMN to_addr")
    _native("ALTER TABLE messages DROP COLUMN contact_hash")
    _native("ALTER TABLE messages RENAME COLUMN from_plain TO from_addr")
    _native("ALTER TABLE messages RENAME COLUMN to_plain TO to_addr")
    if connection.dialect.name == "postgresql":
        # SQLite cannot make a column NOT NULL in place; its rows all hold a value.
        op.alter_column("surveys", "contact", existing_type=sa.String(320), nullable=False)
    with op.batch_alter_table("opt_outs", recreate="always") as batch:
        batch.drop_constraint("uq_opt_outs_contact_hash", type_="unique")
        batch.drop_column("contact_hash")
        batch.alter_column("contact", existing_type=sa.String(length=320), nullable=False)
        batch.create_unique_constraint("uq_opt_outs_contact", ["contact"])
    op.create_index("ix_surveys_contact_status", "surveys", ["contact", "status"])
