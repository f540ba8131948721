"""Re-sealing stored contacts under the primary key (``gateway privacy rotate-keys``).

Rotation: put a new key first in ``CONTACT_ENCRYPTION_KEYS`` and keep the old ones after
it; new values are sealed with the new key at once and old ones still open. This re-seals
every value sealed with another key, a batch at a time, after which the old keys can be
removed. The hash key is not rotated this way: opt-outs keep only the hash, so a new
hash key would forget them (docs/privacy.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.sealing import Keyring

#: Every sealed column: (table, primary key, column).
SEALED_COLUMNS: Final = (
    ("surveys", "id", "contact"),
    ("messages", "id", "from_addr"),
    ("messages", "id", "to_addr"),
    ("contact_attempts", "id", "to_addr"),
    ("agencies", "id", "twilio_auth_token"),
    ("comment_readings", "id", "original"),
)
BATCH: Final = 1000


@dataclass
class Rotation:
    """Values found sealed with another key than the primary, per ``table.column``."""

    resealed: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.resealed.values())


def rotate(session: Session, keys: Keyring, *, dry_run: bool = False) -> Rotation:
    """Re-seal under ``keys``' primary key every value sealed with an older one
    (``dry_run``: only count them). Commits each batch."""
    outcome = Rotation()
    prefix = keys.primary_id + ":"
    # Table and column names come from SEALED_COLUMNS only, never from input.
    for table, key, column in SEALED_COLUMNS:
        stale = sa.text(
            f"SELECT {key}, {column} FROM {table} "
            f"WHERE {column} IS NOT NULL AND substr({column}, 1, :length) <> :prefix "
            f"ORDER BY {key} LIMIT :limit"
        )
        update = sa.text(f"UPDATE {table} SET {column} = :sealed WHERE {key} = :id")
        count = 0
        if dry_run:
            count = session.execute(
                sa.text(
                    f"SELECT count(*) FROM {table} "
                    f"WHERE {column} IS NOT NULL AND substr({column}, 1, :length) <> :prefix"
                ),
                {"prefix": prefix, "length": len(prefix)},
            ).scalar_one()
        else:
            while rows := session.execute(
                stale, {"prefix": prefix, "length": len(prefix), "limit": BATCH}
            ).all():
                session.execute(
                    update,
                    [{"id": id_, "sealed": keys.seal(keys.open(value))} for id_, value in rows],
                )
                session.commit()
                count += len(rows)
        outcome.resealed[f"{table}.{column}"] = count
    return outcome
