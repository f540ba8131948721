"""The column type that keeps a contact address sealed in the database.

Call sites read and write plain addresses; the column holds only
:func:`gateway.store.sealing.seal` tokens. An empty address is stored as NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from gateway.store.sealing import open_sealed, seal


class SealedContact(sa.types.TypeDecorator[str]):
    """A phone number or email address, AES-GCM sealed at rest.

    With ``empty=""`` a NULL reads back as ``""`` (for an attribute typed ``str`` that is
    empty for a survey started from a public link, or once its contact is erased).
    """

    impl = sa.Text
    cache_ok = True

    def __init__(self, empty: str | None = None) -> None:
        super().__init__()
        self.empty = empty

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return seal(value) if value else None

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return open_sealed(value) if value else self.empty
