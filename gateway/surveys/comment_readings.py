"""Comment readings as the API and the dashboard show them, and staff's corrections.

A reading's themes are the reader's until staff correct them; a correction replaces them
everywhere figures are counted (:attr:`CommentReading.current_themes`), and the reader's
own themes stay beside it, so corrections can be counted and the reader measured against
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.comment_models import CommentReading
from gateway.surveys.serializers import timestamp


class CorrectionRefused(ValueError):
    """The corrected themes are not the taxonomy's; the message names the unknown ones."""


def reading_json(reading: CommentReading) -> dict[str, Any]:
    return {
        "themes": reading.current_themes,
        "reader_themes": list(reading.themes),
        "corrected": reading.corrected_themes is not None,
        "corrected_at": timestamp(reading.corrected_at),
        "sentiment": reading.sentiment,
        "crisis": reading.crisis,
        "crisis_reasons": list(reading.crisis_reasons),
        "masked": list(reading.masked),
        "reader": reading.reader,
    }


def readings_json(session: Session, survey_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Survey id to question id to :func:`reading_json`, for the surveys that have any."""
    found: dict[str, dict[str, Any]] = {}
    if not survey_ids:
        return found
    rows = session.scalars(
        sa.select(CommentReading)
        .where(CommentReading.survey_id.in_(list(survey_ids)))
        .order_by(CommentReading.id)
    )
    for row in rows:
        found.setdefault(row.survey_id, {})[row.question_id] = reading_json(row)
    return found


def correct_themes(
    reading: CommentReading,
    themes: Sequence[str],
    known: Sequence[str],
    *,
    actor: str,
    now: datetime,
) -> None:
    """Replace the reading's themes with staff's ``themes`` (each one of ``known``, the
    taxonomy's); choosing exactly the reader's themes again clears the correction."""
    unknown = [theme for theme in themes if theme not in known]
    if unknown:
        raise CorrectionRefused(f"not themes of the taxonomy: {', '.join(sorted(unknown))}")
    chosen = [theme for theme in known if theme in themes]
    if chosen == [theme for theme in known if theme in reading.themes]:
        reading.corrected_themes = None
    else:
        reading.corrected_themes = chosen
    reading.corrected_by = actor
    reading.corrected_at = now
    reading.updated_at = now
