"""SQLAlchemy statements turned into libpq's text (gateway.store.driver.libpq_text): the
request's parameters stay named, the statement's own values are written in."""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa

from gateway.store.driver import libpq_text
from gateway.store.models import Survey

SURVEYS = cast(sa.Table, Survey.__table__)


def test_the_requests_parameters_stay_named_and_the_statements_values_are_written_in() -> None:
    text = libpq_text(
        sa.select(SURVEYS.c.id)
        .where(
            SURVEYS.c.contact_hash == sa.bindparam("contact_hash"),
            SURVEYS.c.channel == "it's",
            SURVEYS.c.status.in_(("sent", "started")),
        )
        .limit(1)
    )
    assert "%(contact_hash)s" in text
    assert "'it''s'" in text
    assert "IN ('sent', 'started')" in text
    assert "LIMIT 1" in text
    assert "POSTCOMPILE" not in text
    assert text.count("%(") == 1


def test_a_parameter_used_twice_keeps_one_name() -> None:
    key: sa.BindParameter[str] = sa.bindparam("key")
    text = libpq_text(
        sa.select(SURVEYS.c.id).where(sa.or_(SURVEYS.c.id == key, SURVEYS.c.provider_ref == key))
    )
    assert text.count("%(key)s") == 2
