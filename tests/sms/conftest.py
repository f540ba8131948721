from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.store.db import db_of
from tests.sms.support import Gateway, make_gateway


@pytest.fixture
def gateway(database_url: str) -> Iterator[Gateway]:
    """A gateway with simulated delivery, jobs in-process, on SQLite and PostgreSQL."""
    gw = make_gateway(database_url)
    yield gw
    db_of(gw.app).dispose()
