"""A webhook's step stored in one statement: what the quick SMS reply
(:mod:`gateway.sms.quick_reply`) and the quick voice step (:mod:`gateway.voice.quick_step`)
share.

Each reads its survey in one SELECT, runs the engine in Python, and stores the step in one
statement of data-modifying CTEs on libpq (:func:`gateway.store.driver.on_driver`),
committed by itself. The channel gives the statement's head, which must define two CTEs:

- ``current_survey``: the survey row, locked, only if it is still as it was read (same
  ``updated_at``, a status the step may follow);
- ``inbound``: the step's inbound message, written from ``current_survey`` (so not at all
  when the survey changed meanwhile), returning its ``id``.

What follows the head is written here, once per row of ``inbound``, from
:func:`gateway.surveys.step_plan.plan_step`'s writes: the survey's columns
(``changed_survey``), its answers (``saved_answers``) and an SMS step's reply texts
(``replies``), the last two with the general path's own statements
(:mod:`gateway.surveys.step_statements`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gateway.flows.model import Flow
from gateway.store.driver import libpq_text
from gateway.store.libpq import LibpqCursor
from gateway.store.models import Message
from gateway.surveys.flow_versions import flow_for_version_id
from gateway.surveys.step_plan import StepWrites
from gateway.surveys.step_statements import answer_params, answer_upsert, reply_insert

#: The columns the heads' INSERTs into ``messages`` name, in this order.
MESSAGE_COLUMNS = (
    "survey_id, agency_id, direction, channel, from_addr, to_addr, contact_hash, body, "
    "provider_sid, step_key, status, attempts, created_at, updated_at"
)

#: The head's CTE of the step's inbound row: the rows that follow are written per row of it.
_INBOUND = sa.table("inbound")

#: Flows by version id, per database (a version row never changes once written).
_FLOWS: WeakKeyDictionary[Engine, dict[int, Flow]] = WeakKeyDictionary()


def flow_of_version(engine: Engine, version_id: int) -> Flow:
    """The flow a survey runs, by its version id, read once per process and database."""
    flows = _FLOWS.setdefault(engine, {})
    flow = flows.get(version_id)
    if flow is None:
        with Session(engine) as session:
            flow = flows[version_id] = flow_for_version_id(session, version_id)
    return flow


Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class Sealing:
    """How a contact address is sealed into a messages row and opened from a surveys row
    (contacts are sealed at rest), for one database's dialect."""

    seal: Convert
    open: Convert


_SEALINGS: WeakKeyDictionary[Engine, Sealing] = WeakKeyDictionary()


def sealing(engine: Engine) -> Sealing:
    """The address columns' own conversions on ``engine``'s dialect."""
    found = _SEALINGS.get(engine)
    if found is None:
        column = cast(sa.Table, Message.__table__).c.to_addr
        found = _SEALINGS[engine] = Sealing(
            seal=column.type.bind_processor(engine.dialect) or _same,
            open=column.type.result_processor(engine.dialect, None) or _same,
        )
    return found


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class _Shape:
    """What varies between the statements of one head: each shape's text is built once."""

    head: str
    #: What the statement returns: the ``id`` of each row of this CTE.
    returns: str
    answers: int
    replies: int
    #: Survey columns set besides ``state``.
    columns: tuple[str, ...]


@functools.cache
def _statement(shape: _Shape) -> str:
    """The one statement storing a step of ``shape``; it returns no row when it wrote
    nothing (the survey changed since read, or, for a text, a duplicate sid)."""
    sets = "".join(f", {name} = %(set_{name})s" for name in shape.columns)
    ctes = [
        shape.head.strip(),
        f"""changed_survey AS (
    UPDATE surveys SET state = CAST(%(state)s AS json){sets}
    FROM inbound WHERE surveys.id = %(survey_id)s
)""",
    ]
    if shape.answers:
        upsert = answer_upsert(postgresql, shape.answers, _INBOUND)
        ctes.append(f"saved_answers AS (\n{libpq_text(upsert)}\n)")
    if shape.replies:
        ctes.append(f"replies AS (\n{libpq_text(reply_insert(shape.replies, _INBOUND))}\n)")
    return "WITH " + ",\n".join(ctes) + f"\nSELECT id FROM {shape.returns}"


def store_step(
    cursor: LibpqCursor,
    head: str,
    params: dict[str, Any],
    writes: StepWrites,
    *,
    replies: int = 0,
    returns: str = "inbound",
) -> bool:
    """Store ``writes`` in one statement after ``head`` (see the module); whether it wrote
    anything. ``params`` has the head's parameters, ``survey_id``, ``now`` and the
    survey's ``survey_created_at`` (for the answers), and those of the ``replies`` texts
    (:func:`gateway.surveys.step_statements.reply_insert`)."""
    params["state"] = json.dumps(writes.state)
    for name, value in writes.columns.items():
        params[f"set_{name}"] = value
    if writes.answers:
        params.update(answer_params(writes.answers, json.dumps))
    shape = _Shape(head, returns, len(writes.answers), replies, tuple(writes.columns))
    cursor.execute(_statement(shape), params)
    return cursor.fetchone() is not None


_Row = TypeVar("_Row")


def read_one(
    cursor: LibpqCursor,
    statement: str,
    params: Mapping[str, Any],
    make: Callable[[Sequence[Any]], _Row],
) -> _Row | None:
    """The one row ``statement`` reads, made into ``make``'s type; None when there is none."""
    cursor.execute(statement, params)
    row = cursor.fetchone()
    return None if row is None else make(row)
