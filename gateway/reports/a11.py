"""The A-11 Section 280 figures of one flow and quarter, as pure functions over rows.

The queries in :mod:`gateway.reports.queries` aggregate the store; this module turns their
small results (counts per channel, counts per driver and point, one respondent's answers)
into what performance.gov and GSA Touchpoints expect. See docs/results.md for the rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from gateway.flows.model import Flow, Question
from gateway.reports.fiscal import FiscalQuarter

#: The v2 driver codes, in the submission CSV's column order.
V2_DRIVERS: Final = (
    "effectiveness",
    "ease",
    "efficiency",
    "transparency",
    "humanity",
    "employee",
    "other",
)
#: The original seven drivers, in the legacy template's order.
SEVEN_DRIVERS: Final = (
    "satisfaction",
    "trust",
    "effectiveness",
    "ease",
    "efficiency",
    "transparency",
    "employee",
)
SUBMISSION_HEADER: Final = (
    "external_id",
    "question_1",
    *(f"positive_{d}" for d in V2_DRIVERS),
    *(f"negative_{d}" for d in V2_DRIVERS),
    "question_4",
)
LIKERT_HEADER: Final = ("driver", "question_text", *(f"count_{n}" for n in range(1, 6)))

#: The gateway's channels in A-11's channel vocabulary.
A11_CHANNELS: Final = {
    "sms": "sms_text_messages",
    "voice": "automated_phone",
    "email": "email",
    "web": "website",
}
#: A web survey taken at a kiosk or tablet in an office (one with a ``location`` context).
IN_PERSON: Final = "in_person"
#: Survey statuses that mean the survey reached the respondent; ``expired`` counts only
#: when the survey had been sent before it expired.
DELIVERED_STATUSES: Final = ("sent", "started", "completed")

ReportKind = Literal["v2", "seven_drivers"]
NULL: Final = "null"


@dataclass(frozen=True)
class ChannelCounts:
    """One row of the collection query: a channel's customers, opportunities, respondents."""

    channel: str  # the gateway's channel
    in_person: bool
    customers: int
    opportunities: int
    respondents: int


def tagged(flow: Flow, tag: str) -> Question | None:
    """The flow's first question carrying the A-11 ``tag``."""
    return next((q for q in flow.questions if q.a11 == tag), None)


def report_kind(flow: Flow) -> ReportKind | None:
    """v2 when the flow asks what went well or poorly; seven drivers when it rates any."""
    if tagged(flow, "went_well") or tagged(flow, "went_poorly"):
        return "v2"
    if any(q.type == "rating" and q.a11 in SEVEN_DRIVERS for q in flow.questions):
        return "seven_drivers"
    return None


def survey_type(flow: Flow) -> str | None:
    """``thumbs_up_down`` for a yes/no trust question, ``likert_scale`` for a rating."""
    trust = tagged(flow, "trust")
    if trust is None:
        return None
    return "thumbs_up_down" if trust.type == "yesno" else "likert_scale"


def english(text: Mapping[str, str], default_language: str) -> str:
    return text.get("en") or text.get(default_language) or next(iter(text.values()), "")


def trust_question_text(flow: Flow) -> str | None:
    trust = tagged(flow, "trust")
    return None if trust is None else english(trust.prompt, flow.default_language)


def a11_channel(channel: str, in_person: bool) -> str:
    if channel == "web" and in_person:
        return IN_PERSON
    return A11_CHANNELS.get(channel, channel)


def collection_rows(
    flow: Flow, quarter: FiscalQuarter, counts: Sequence[ChannelCounts]
) -> list[dict[str, Any]]:
    """One ``cx_collection_details`` row per A-11 channel.

    Every channel the flow offers gets a row (zeros when unused), so a quiet quarter is
    still reported; ``in_person`` appears when a web survey carried a location.
    """
    totals: dict[str, list[int]] = {A11_CHANNELS[c]: [0, 0, 0] for c in flow.channels}
    for row in counts:
        figures = totals.setdefault(a11_channel(row.channel, row.in_person), [0, 0, 0])
        figures[0] += row.customers
        figures[1] += row.opportunities
        figures[2] += row.respondents
    service = flow.a11.service if flow.a11 else english(flow.title, flow.default_language)
    point = flow.a11.transaction_point if flow.a11 else "post-interaction"
    return [
        {
            "service": service,
            "fiscal_year": quarter.fiscal_year,
            "quarter": quarter.quarter,
            "transaction_point": point,
            "channel": channel,
            "volume_of_customers": customers,
            "volume_of_customers_provided_survey_opportunity": opportunities,
            "volume_of_respondents": respondents,
            "omb_control_number": flow.pra.omb_control_number if flow.pra else None,
            "survey_type": survey_type(flow),
            "trust_question_text": trust_question_text(flow),
        }
        for channel, (customers, opportunities, respondents) in totals.items()
    ]


def trust_cell(value: Any) -> str:
    """question_1: yes = 1, no = 0, a rating as its number; empty when unanswered."""
    if value == "yes":
        return "1"
    if value == "no":
        return "0"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def driver_cells(offered: frozenset[str], value: Any) -> list[str]:
    """The seven driver columns of one choice question: 1 picked, 0 not, null not offered."""
    picked = set(value) if isinstance(value, list) else ({value} if value else set())
    return [
        (("1" if driver in picked else "0") if driver in offered else NULL) for driver in V2_DRIVERS
    ]


@dataclass(frozen=True)
class SubmissionColumns:
    """Which of a v2 flow's questions fill the submission CSV, found once per file."""

    trust: str | None
    went_well: str | None
    went_poorly: str | None
    comment: str | None
    offered_well: frozenset[str]
    offered_poorly: frozenset[str]

    @classmethod
    def of(cls, flow: Flow) -> SubmissionColumns:
        def qid(tag: str) -> str | None:
            question = tagged(flow, tag)
            return question.id if question else None

        def offered(tag: str) -> frozenset[str]:
            question = tagged(flow, tag)
            return frozenset(o.value for o in question.options) if question else frozenset()

        return cls(
            trust=qid("trust"),
            went_well=qid("went_well"),
            went_poorly=qid("went_poorly"),
            comment=qid("comment"),
            offered_well=offered("went_well"),
            offered_poorly=offered("went_poorly"),
        )

    def row(self, survey_id: str, answers: Mapping[str, Any]) -> list[Any]:
        """One respondent's row (the raw comment text last, for the caller to defuse)."""
        return [
            survey_id,
            trust_cell(answers.get(self.trust)) if self.trust else "",
            *driver_cells(self.offered_well, answers.get(self.went_well or "")),
            *driver_cells(self.offered_poorly, answers.get(self.went_poorly or "")),
            answers.get(self.comment) if self.comment else None,
        ]


def driver_questions(flow: Flow) -> list[Question]:
    """The flow's rating questions tagged with one of the seven drivers, in driver order."""
    found = {q.a11: q for q in reversed(flow.questions) if q.type == "rating" and q.a11}
    return [found[d] for d in SEVEN_DRIVERS if d in found]


def likert_rows(flow: Flow, counts: Mapping[tuple[str, int], int]) -> list[dict[str, Any]]:
    """Per driver question, the count of answers at each point 1..5.

    ``counts`` maps (question id, answer) to a count; answers outside 1..5 (a flow with
    another scale) are not A-11 points and are left out.
    """
    return [
        {
            "driver": question.a11,
            "question": question.id,
            "question_text": english(question.prompt, flow.default_language),
            "counts": {str(n): counts.get((question.id, n), 0) for n in range(1, 6)},
        }
        for question in driver_questions(flow)
    ]


def likert_csv_row(row: Mapping[str, Any]) -> list[Any]:
    return [row["driver"], row["question_text"], *(row["counts"][str(n)] for n in range(1, 6))]
