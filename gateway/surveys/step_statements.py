"""The statements that store a step's rows, each built once for both of a step's writers.

The general path (:mod:`gateway.surveys.lifecycle`, :mod:`gateway.surveys.messages`)
executes them through SQLAlchemy, on any database; the one-statement writer
(:mod:`gateway.surveys.quick_steps`) runs the same statements on libpq as parts of its one
statement, built with a ``source``: the rows are then written once per row of ``source``
(the step's inbound message), so not at all when that was not written.

Their parameters, named here: ``survey_id``, ``now`` and, per answer ``i``,
``question<i>``, ``raw<i>``, ``value<i>``, ``outcome<i>`` (:func:`answer_params`) with the
survey's ``survey_created_at``; per reply ``i``, ``reply<i>`` with ``agency_id``,
``from_addr``, ``to_addr``, ``contact_hash``, ``key_prefix`` and ``status``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any, cast

import sqlalchemy as sa

from gateway.engine.types import RecordedAnswer
from gateway.store.models import Answer, Message

_ANSWERS = cast(sa.Table, Answer.__table__)
_MESSAGES = cast(sa.Table, Message.__table__)

_ANSWER_COLUMNS = (
    "survey_id",
    "question_id",
    "raw",
    "value",
    "outcome",
    "survey_created_at",
    "created_at",
    "updated_at",
)
_REPLY_COLUMNS = (
    "survey_id",
    "agency_id",
    "direction",
    "channel",
    "from_addr",
    "to_addr",
    "contact_hash",
    "body",
    "step_key",
    "status",
    "attempts",
    "created_at",
    "updated_at",
)


#: How many outbound rows the survey ``survey_id`` has: the number of the next one.
OUTBOUND_WRITTEN = sa.select(sa.func.count(_MESSAGES.c.id)).where(
    _MESSAGES.c.survey_id == sa.bindparam("survey_id"), _MESSAGES.c.direction == "outbound"
)


def _bind(table: sa.Table, column: str, name: str | None = None) -> sa.BindParameter[Any]:
    """The parameter ``name`` (by default the column's) with the column's type: so it is
    converted (JSON, sealed addresses, times) also where no column types it."""
    return sa.bindparam(name or column, type_=table.c[column].type)


def _answer_row(i: int) -> tuple[sa.ColumnElement[Any], ...]:
    """Answer ``i``'s values, in the order of ``_ANSWER_COLUMNS``."""
    return (
        _bind(_ANSWERS, "survey_id"),
        _bind(_ANSWERS, "question_id", f"question{i}"),
        _bind(_ANSWERS, "raw", f"raw{i}"),
        _bind(_ANSWERS, "value", f"value{i}"),
        _bind(_ANSWERS, "outcome", f"outcome{i}"),
        _bind(_ANSWERS, "survey_created_at"),
        _bind(_ANSWERS, "created_at", "now"),
        _bind(_ANSWERS, "updated_at", "now"),
    )


def answer_upsert(dialect: ModuleType, count: int = 1, source: sa.FromClause | None = None) -> Any:
    """INSERT of ``count`` answers of a survey, each one row per question: a question
    answered before has its row updated. ``dialect`` is the module whose ``insert`` has ON
    CONFLICT (``sqlalchemy.dialects.postgresql`` or ``.sqlite``)."""
    if source is None:
        rows = [dict(zip(_ANSWER_COLUMNS, _answer_row(i), strict=True)) for i in range(count)]
        insert = dialect.insert(_ANSWERS).values(rows[0] if count == 1 else rows)
    else:
        selects = [sa.select(*_answer_row(i)).select_from(source) for i in range(count)]
        insert = dialect.insert(_ANSWERS).from_select(
            _ANSWER_COLUMNS, _union(selects), include_defaults=False
        )
    return insert.on_conflict_do_update(
        index_elements=["survey_id", "question_id"],
        set_={
            "raw": insert.excluded.raw,
            "value": insert.excluded.value,
            "outcome": insert.excluded.outcome,
            "updated_at": insert.excluded.updated_at,
        },
    )


def answer_params(
    answers: Iterable[RecordedAnswer], value: Callable[[Any], Any] = lambda v: v
) -> dict[str, Any]:
    """The per-answer parameters of :func:`answer_upsert`; ``value`` converts an answer's
    value where no column type does (to JSON text, on libpq)."""
    params: dict[str, Any] = {}
    for i, recorded in enumerate(answers):
        params[f"question{i}"] = recorded.question_id
        params[f"raw{i}"] = recorded.raw
        params[f"value{i}"] = value(recorded.value)
        params[f"outcome{i}"] = recorded.outcome
    return params


def reply_insert(count: int = 1, source: sa.FromClause | None = None) -> sa.Insert:
    """INSERT of ``count`` texts answering an SMS survey's respondent. Their step keys number
    them after the survey's outbound rows already written (``key_prefix``, from
    :func:`gateway.surveys.step_plan.step_key_prefix`, then the number)."""
    survey_id = _bind(_MESSAGES, "survey_id")
    written = OUTBOUND_WRITTEN.scalar_subquery()
    selects = []
    for i in range(count):
        number = written + i if i else written
        select = sa.select(
            survey_id,
            _bind(_MESSAGES, "agency_id"),
            sa.literal("outbound"),
            sa.literal("sms"),
            _bind(_MESSAGES, "from_addr"),
            _bind(_MESSAGES, "to_addr"),
            _bind(_MESSAGES, "contact_hash"),
            _bind(_MESSAGES, "body", f"reply{i}"),
            _bind(_MESSAGES, "step_key", "key_prefix") + sa.cast(number, sa.String()),
            _bind(_MESSAGES, "status"),
            sa.literal(0),
            _bind(_MESSAGES, "created_at", "now"),
            _bind(_MESSAGES, "updated_at", "now"),
        )
        selects.append(select if source is None else select.select_from(source))
    return sa.insert(_MESSAGES).from_select(_REPLY_COLUMNS, _union(selects), include_defaults=False)


def _union(selects: list[sa.Select[Any]]) -> Any:
    return selects[0] if len(selects) == 1 else sa.union_all(*selects)
