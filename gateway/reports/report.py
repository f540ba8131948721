"""The A-11 report of one flow and fiscal quarter: the figures as JSON and the CSV files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from gateway.flows.model import Flow
from gateway.reach.interactions import unsurveyed_counts
from gateway.reports.a11 import (
    LIKERT_HEADER,
    SUBMISSION_HEADER,
    ChannelCounts,
    SubmissionColumns,
    collection_rows,
    driver_questions,
    likert_csv_row,
    likert_rows,
    report_kind,
)
from gateway.reports.csvfile import csv_lines
from gateway.reports.fiscal import FiscalQuarter
from gateway.reports.queries import (
    answer_counts,
    answer_window,
    channel_counts,
    respondent_answers,
    scope,
)
from gateway.store.db import Database
from gateway.store.slow_reads import reading
from gateway.surveys.serializers import csv_cell


def a11_report(
    session: Session, flow: Flow, agency_id: int, quarter: FiscalQuarter
) -> dict[str, Any]:
    """The quarter's figures: collection rows per channel, and driver counts when rated."""
    clauses = scope(agency_id, flow.id, quarter.start, quarter.end)
    kind = report_kind(flow)
    report: dict[str, Any] = {
        "flow": flow.id,
        "fiscal_year": quarter.fiscal_year,
        "quarter": quarter.quarter,
        "period": {
            "start": quarter.start.isoformat().replace("+00:00", "Z"),
            "end": quarter.end.isoformat().replace("+00:00", "Z"),
        },
        "format": kind,
        "collection": collection_rows(flow, quarter, _counts(session, flow, agency_id, quarter)),
    }
    if kind == "seven_drivers":
        window = answer_window(quarter.start, quarter.end)
        report["drivers"] = _likert(session, flow, clauses, window)
    return report


def _counts(
    session: Session, flow: Flow, agency_id: int, quarter: FiscalQuarter
) -> list[ChannelCounts]:
    """Per channel: the survey records' customers, opportunities and respondents, and the
    interactions refused for an invalid contact, which have no survey record."""
    clauses = scope(agency_id, flow.id, quarter.start, quarter.end)
    refused = [
        ChannelCounts(channel, False, count, 0, 0)
        for channel, count in unsurveyed_counts(
            session, agency_id, flow.id, quarter.start, quarter.end
        ).items()
    ]
    return channel_counts(session, clauses) + refused


def _likert(
    session: Session, flow: Flow, clauses: list[Any], window: list[Any]
) -> list[dict[str, Any]]:
    questions = [q.id for q in driver_questions(flow)]
    counts = answer_counts(session, clauses, questions, window)
    points = {(q, v): n for (q, v), n in counts.items() if isinstance(v, int)}
    return likert_rows(flow, points)


def submission_csv(
    database: Database, flow: Flow, agency_id: int, quarter: FiscalQuarter
) -> Iterator[str]:
    """The per-response submission CSV of a v2 flow, one row per respondent, streamed."""
    clauses = scope(agency_id, flow.id, quarter.start, quarter.end)

    columns = SubmissionColumns.of(flow)

    def rows() -> Iterator[list[Any]]:
        with reading(database) as session:
            for survey_id, answers in respondent_answers(session, clauses):
                row = columns.row(survey_id, answers)
                row[-1] = csv_cell(row[-1])
                yield row

    return csv_lines(SUBMISSION_HEADER, rows())


def likert_csv(
    session: Session, flow: Flow, agency_id: int, quarter: FiscalQuarter
) -> Iterator[str]:
    """The legacy aggregate template: per driver question, its text and counts 1..5."""
    clauses = scope(agency_id, flow.id, quarter.start, quarter.end)
    window = answer_window(quarter.start, quarter.end)
    rows = [likert_csv_row(row) for row in _likert(session, flow, clauses, window)]
    return csv_lines(LIKERT_HEADER, ([csv_cell(c) for c in row] for row in rows))
