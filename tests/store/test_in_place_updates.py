"""An answer changes only survey columns that no index names, so that PostgreSQL can
write the survey's new version in place (a HOT update) without adding an entry to each
of the table's indexes: most of the database's work on a webhook, otherwise."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from gateway.store.db import Database
from gateway.store.models import SURVEYS_FILLFACTOR
from tests.sms.support import RESPONDENT, make_gateway

#: What storing an answer to a survey that has started sets (gateway.surveys.step_plan's
#: plan_step, written by gateway.surveys.quick_steps and by the ORM path's flush).
CHANGED_BY_AN_ANSWER = ("state", "updated_at")


def named_columns(index: dict[str, object]) -> set[str]:
    """Every column an index names: its keys, its INCLUDE list and its predicate."""
    options = index.get("dialect_options") or {}
    assert isinstance(options, dict)
    names = {str(name) for name in index["column_names"] or []}  # type: ignore[attr-defined]
    names |= set(options.get("postgresql_include") or ())
    for key in ("postgresql_where", "sqlite_where"):
        if options.get(key) is not None:
            names |= set(re.findall(r"[a-z_]+", str(options[key])))
    return names


def test_no_index_on_surveys_names_a_column_an_answer_changes(database_url: str) -> None:
    database = Database(database_url)
    indexes = sa.inspect(database.engine).get_indexes("surveys")
    database.dispose()
    assert len(indexes) > 5
    for index in indexes:
        assert not named_columns(dict(index)) & set(CHANGED_BY_AN_ANSWER), index["name"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_answer_rewrites_the_survey_row_in_place(database_url: str) -> None:
    gateway = make_gateway(database_url)
    survey_id = gateway.trigger(to=RESPONDENT)["id"]
    gateway.text("4")  # the first answer: the survey starts (its status changes)
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            options = conn.scalar(
                sa.text("SELECT reloptions FROM pg_class WHERE relname = 'surveys'")
            )
            # What the next answer writes (the statistics below count this transaction's).
            conn.execute(
                sa.text(
                    "UPDATE surveys SET state = CAST(:state AS json), updated_at = now() "
                    "WHERE id = :id"
                ),
                {"state": '{"answered": 2}', "id": survey_id},
            )
            updated, in_place = conn.execute(
                sa.text(
                    "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                    "WHERE relname = 'surveys'"
                )
            ).one()
            conn.rollback()
    finally:
        engine.dispose()
    assert f"fillfactor={SURVEYS_FILLFACTOR}" in options
    assert (updated, in_place) == (1, 1)
