"""A survey keeps the exact flow text it started on, whatever happens to the file later."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.flows.loader import load_flow_file
from gateway.flows.model import Flow
from gateway.store.db import Database
from gateway.store.models import FlowVersion
from gateway.surveys.flow_versions import (
    FlowSourceChanged,
    flow_for_version,
    flow_source,
    record_flow_version,
)

FLOW = """\
id: visit
version: 1
title: Office visit
agency: dmv
questions:
  - id: satisfied
    type: rating
    prompt: How satisfied were you?
"""


def load(path: Path) -> Flow:
    flow = load_flow_file(path).flow
    assert flow is not None
    return flow


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    path = tmp_path / "visit.yaml"
    path.write_text(FLOW, encoding="utf-8")
    return path


def test_recording_the_same_flow_twice_keeps_one_row(database: Database, flow_file: Path) -> None:
    flow = load(flow_file)
    with database.session() as session:
        first = record_flow_version(session, flow, flow_source(flow)).id
    with database.session() as session:
        second = record_flow_version(session, flow, flow_source(flow)).id
        count = session.scalar(sa.select(sa.func.count()).select_from(FlowVersion))
    assert (first, count) == (second, 1)


def test_an_edited_file_with_the_same_version_number_is_a_new_row(
    database: Database, flow_file: Path
) -> None:
    before = load(flow_file)
    flow_file.write_text(FLOW.replace("How satisfied", "How pleased"), encoding="utf-8")
    after = load(flow_file)
    with database.session() as session:
        ids = {
            record_flow_version(session, f, src).id
            for f, src in [(before, FLOW), (after, flow_source(after))]
        }
    assert len(ids) == 2


def test_a_stored_version_loads_its_own_text_after_the_file_changed(
    database: Database, flow_file: Path
) -> None:
    flow = load(flow_file)
    with database.session() as session:
        version_id = record_flow_version(session, flow, flow_source(flow)).id
    flow_file.write_text(FLOW.replace("How satisfied were you?", "Rate us."), encoding="utf-8")
    with database.session() as session:
        restored = flow_for_version(session.get_one(FlowVersion, version_id))
    assert restored.questions[0].prompt == {"en": "How satisfied were you?"}
    assert restored.content_hash == flow.content_hash


def test_a_file_changed_since_loading_is_not_recorded(flow_file: Path) -> None:
    flow = load(flow_file)
    flow_file.write_text(
        FLOW + "  - id: extra\n    type: text\n    prompt: More?\n", encoding="utf-8"
    )
    with pytest.raises(FlowSourceChanged, match="visit.yaml changed on disk"):
        flow_source(flow)


def test_a_file_removed_since_loading_is_not_recorded(flow_file: Path) -> None:
    flow = load(flow_file)
    flow_file.unlink()
    with pytest.raises(FlowSourceChanged):
        flow_source(flow)
