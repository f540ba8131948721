"""What each contact attempt is worth: the response rate per attempt kind and channel.

A response is credited to the last attempt made before the survey's first answer
(``first_answered_at``, else ``started_at``): a respondent who answered after the
reminder counts for the reminder, one who answered the fallback email for the fallback.
The rate of an attempt kind on a channel is its credited responses over the attempts of
that kind made on it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.attempt_models import ContactAttempt
from gateway.store.models import Survey

#: The order and names the dashboard shows the kinds in.
KIND_ORDER = {
    "first": (0, "First contact"),
    "reminder": (1, "Reminder"),
    "fallback": (2, "Fallback"),
}


@dataclass(frozen=True)
class AttemptRate:
    kind: str  # first, reminder, fallback
    label: str  # "First contact", "Reminder", "Fallback"
    channel: str
    made: int
    responses: int

    @property
    def response_rate(self) -> float | None:
        """Percent, one decimal; None when no attempt was made."""
        return round(100 * self.responses / self.made, 1) if self.made else None


def by_attempt(session: Session, clauses: list[sa.ColumnElement[bool]]) -> list[AttemptRate]:
    """Attempts made and responses credited, per kind and channel, for the surveys the
    dashboard's filters select (``clauses`` on :class:`Survey`)."""
    rows = session.execute(
        sa.select(
            ContactAttempt.survey_id,
            ContactAttempt.kind,
            ContactAttempt.channel,
            ContactAttempt.attempted_at,
            ContactAttempt.id,
            # The first answer's time; a survey begun before that column was kept has
            # only the time it started.
            sa.func.coalesce(Survey.first_answered_at, Survey.started_at),
        )
        .join(Survey, Survey.id == ContactAttempt.survey_id)
        .where(ContactAttempt.outcome == "sent", *clauses)
    ).all()
    made: dict[tuple[str, str], int] = defaultdict(int)
    credited: dict[str, tuple[datetime, int, str, str]] = {}
    for survey_id, kind, channel, attempted_at, row_id, answered_at in rows:
        made[(kind, channel)] += 1
        if answered_at is None or attempted_at is None or attempted_at > answered_at:
            continue
        best = credited.get(survey_id)
        if best is None or (attempted_at, row_id) > best[:2]:
            credited[survey_id] = (attempted_at, row_id, kind, channel)
    responses: dict[tuple[str, str], int] = defaultdict(int)
    for _at, _id, kind, channel in credited.values():
        responses[(kind, channel)] += 1
    return [
        AttemptRate(
            kind, KIND_ORDER.get(kind, (9, kind))[1], channel, count, responses[(kind, channel)]
        )
        for (kind, channel), count in sorted(
            made.items(), key=lambda item: (KIND_ORDER.get(item[0][0], (9, ""))[0], item[0][1])
        )
    ]
