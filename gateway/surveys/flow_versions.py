"""Flow versions: the exact flow text each survey started on.

A survey is recorded against a :class:`FlowVersion` row holding the YAML text it was
started with, so it runs to its end on that text even after the file is edited and the
gateway reloaded. :func:`flow_for_version` turns a row back into a :class:`Flow`.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.flows.loader import load_flow_text
from gateway.flows.model import Flow
from gateway.store.models import FlowVersion


class FlowSourceChanged(Exception):
    """The flow file on disk is no longer the text the gateway loaded and validated."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        super().__init__(
            f"the flow file {flow.source_path} changed on disk since the gateway loaded it; "
            "restart the gateway so it validates and loads the new version"
        )


class FlowVersionInvalid(Exception):
    """A stored flow text no longer loads (the validator became stricter)."""


def flow_source(flow: Flow) -> str:
    """The text ``flow`` was loaded from, read back from its file.

    The file is read as bytes and its SHA-256 compared with the hash taken when the flow
    was loaded: a survey must never be recorded against text that nobody validated.
    Raises :class:`FlowSourceChanged` when the file was edited or removed since.
    """
    try:
        data = Path(flow.source_path).read_bytes()
    except OSError as exc:
        raise FlowSourceChanged(flow) from exc
    if hashlib.sha256(data).hexdigest() != flow.content_hash:
        raise FlowSourceChanged(flow)
    return data.decode("utf-8")


def record_flow_version(session: Session, flow: Flow, source: str) -> FlowVersion:
    """The row for ``flow`` as loaded from ``source``, inserted the first time it is seen.

    Idempotent by (flow id, version, content hash), also when two processes record the
    same version at the same moment.
    """
    found = _find(session, flow)
    if found is not None:
        return found
    row = FlowVersion(
        flow_id=flow.id,
        version=flow.version,
        agency_slug=flow.agency,
        content_hash=flow.content_hash,
        source=source,
        source_path=flow.source_path,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another process inserted it between our select and insert.
        found = _find(session, flow)
        if found is None:
            raise
        return found
    return row


def flow_for_version(fv: FlowVersion) -> Flow:
    """The flow a survey started on, loaded from the stored text (cached by content hash)."""
    return _load_cached(fv.content_hash, fv.source, fv.source_path)


#: Flows by flow version id, per database: a version row never changes once written, so a
#: webhook need not read its text back (nor hash it) on every step of a conversation.
_BY_VERSION_ID: WeakKeyDictionary[Engine, dict[int, Flow]] = WeakKeyDictionary()


def flow_for_version_id(session: Session, version_id: int) -> Flow:
    """The flow of the version row ``version_id``, read from the database once per process."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    flows = _BY_VERSION_ID.setdefault(engine, {})
    flow = flows.get(version_id)
    if flow is None:
        row = session.get(FlowVersion, version_id)
        if row is None:
            raise FlowVersionInvalid(f"flow version {version_id} is not in the database")
        flow = flows[version_id] = flow_for_version(row)
    return flow


@lru_cache(maxsize=256)
def _load_cached(content_hash: str, source: str, source_path: str) -> Flow:
    result = load_flow_text(source, source_path)
    if result.flow is None:
        problems = "; ".join(str(e) for e in result.errors)
        raise FlowVersionInvalid(
            f"stored flow version {content_hash[:12]} no longer loads: {problems}"
        )
    return result.flow


def _find(session: Session, flow: Flow) -> FlowVersion | None:
    return session.scalars(
        sa.select(FlowVersion).where(
            FlowVersion.flow_id == flow.id,
            FlowVersion.version == flow.version,
            FlowVersion.content_hash == flow.content_hash,
        )
    ).first()
