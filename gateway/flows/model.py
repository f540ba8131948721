"""The flow model: what a validated flow file becomes.

Objects here are immutable and hold only checked data; the loader
(:mod:`gateway.flows.loader`) is the one place that builds them from YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Literal

from gateway.flows.identifiers import IdentifierPattern

if TYPE_CHECKING:
    from gateway.flows.when import Condition

QuestionType = Literal["rating", "yesno", "choice", "number", "text", "message"]
QUESTION_TYPES: tuple[QuestionType, ...] = (
    "rating",
    "yesno",
    "choice",
    "number",
    "text",
    "message",
)

Channel = Literal["sms", "voice", "email", "web"]
CHANNELS: tuple[Channel, ...] = ("sms", "voice", "email", "web")

#: Where a question's ``handoff`` may send an SMS respondent to answer the rest.
HandoffTarget = Literal["web"]
HANDOFF_TARGETS: tuple[HandoffTarget, ...] = ("web",)

#: Channels whose wording a question may override with a key of the same name.
OVERRIDE_CHANNELS: tuple[str, ...] = ("sms", "voice", "web")

A11_TAGS: tuple[str, ...] = (
    "satisfaction",
    "trust",
    "effectiveness",
    "ease",
    "efficiency",
    "transparency",
    "employee",
    "humanity",
    "went_well",
    "went_poorly",
    "comment",
)

#: Where in the customer's experience the survey is taken (A-11 Section 280 vocabulary).
TRANSACTION_POINTS: tuple[str, ...] = ("post-interaction", "post-service-journey", "relational")

# Text in every language of the flow: language code -> string. The loader turns a plain
# string into {default language: string}.
Text = dict[str, str]


@dataclass(frozen=True)
class Option:
    value: str
    label: Text
    key: str  # the keypad key, "1", "2", ... by default


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    prompt: Text
    overrides: dict[str, Text] = field(default_factory=dict)  # channel -> text
    optional: bool = False
    a11: str | None = None
    when: Condition | None = None
    when_source: str | None = None
    scale: tuple[int, int] = (1, 5)  # rating only
    options: tuple[Option, ...] = ()  # choice only
    multiple: bool = False  # choice only
    min: int | None = None  # number only
    max: int | None = None  # number only
    max_length: int | None = None  # text only: characters typed (SMS, web)
    max_seconds: int | None = None  # text only: recording length on voice (default 60)
    transcribe: bool = False  # text only: ask Twilio to transcribe the voice recording
    # On SMS, send a link to the web survey instead of asking this question by text; the
    # rest of the survey is answered on the web pages. Other channels ask it as usual.
    handoff: HandoffTarget | None = None

    @property
    def answerable(self) -> bool:
        return self.type != "message"

    def option_by_key(self, key: str) -> Option | None:
        return next((o for o in self.options if o.key == key), None)

    def option_by_value(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


@dataclass(frozen=True)
class Pra:
    """A Paperwork Reduction Act notice (5 CFR 1320.8(b))."""

    omb_control_number: str
    expiration_date: date
    burden_minutes: int | None = None

    def expired(self, today: date) -> bool:
        return today > self.expiration_date


@dataclass(frozen=True)
class A11Reporting:
    """The flow's ``a11:`` block: what the quarterly A-11 Section 280 report says of it."""

    service: str
    transaction_point: str = "post-interaction"


#: A case's priorities, lowest first.
CASE_PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")


#: A crisis case is due this many hours after it opens unless the flow's
#: ``comments.crisis.due`` says otherwise; at most :data:`MAX_CRISIS_DUE_HOURS`.
CRISIS_DUE_HOURS = 1
MAX_CRISIS_DUE_HOURS = 24


@dataclass(frozen=True)
class CaseRule:
    """An alert rule's ``case:``: open a service-recovery case with this priority, due
    ``due_business_days`` business days (or ``due_hours`` hours) after it opens, for
    ``team`` (a name of the flow's ``cases.teams``) when given."""

    priority: str = "normal"
    due_business_days: int | None = 5
    due_hours: int | None = None
    team: str | None = None


@dataclass(frozen=True)
class AlertRule:
    """A service-recovery rule: when a completed survey's answers match ``when``, notify
    (a webhook, an email) and open a case (``case``)."""

    name: str
    when: Condition
    when_source: str
    webhook: str | None = None
    email: str | None = None
    case: CaseRule | None = None


@dataclass(frozen=True)
class CrisisRoute:
    """Where a comment read as crisis language goes at once (docs/comments.md): a signed
    webhook, an email, an urgent case due ``due_hours`` hours after it opens, and the
    message shown or texted back to the respondent."""

    webhook: str | None = None
    email: str | None = None
    message: Text | None = None
    due_hours: int = CRISIS_DUE_HOURS


@dataclass(frozen=True)
class CommentSettings:
    """A flow's ``comments:`` block: the agency's identifiers masked in free-text answers,
    whether the unredacted text is kept (sealed), and the crisis route."""

    keep_original: bool = False
    identifiers: tuple[IdentifierPattern, ...] = ()
    crisis: CrisisRoute | None = None


@dataclass(frozen=True)
class ReplyTemplate:
    """A text staff may send a respondent about their case, in each of the flow's languages."""

    name: str
    text: Text


@dataclass(frozen=True)
class CaseSettings:
    """A flow's ``cases:`` block: how staff work its cases.

    ``consent`` names the yes/no question whose ``yes`` lets staff reply to the respondent;
    ``resolutions`` are the codes a resolved case records; ``teams`` maps a team's name to
    the address its escalations and daily digest go to."""

    consent: str | None = None
    resolutions: tuple[str, ...] = ("resolved",)
    teams: tuple[tuple[str, str], ...] = ()
    replies: tuple[ReplyTemplate, ...] = ()

    def team_email(self, team: str | None) -> str | None:
        return dict(self.teams).get(team or "")

    def reply(self, name: str) -> ReplyTemplate | None:
        return next((r for r in self.replies if r.name == name), None)


@dataclass(frozen=True)
class FlowSender:
    """The agency's sender a flow's surveys go out from (``sender:``): an E.164 number or
    Messaging Service SID for texts, a number for calls; None takes the agency's default."""

    sms: str | None = None
    voice: str | None = None


@dataclass(frozen=True)
class QuietHours:
    """The respondent's local hours a survey may be sent in: ``start`` up to ``end``."""

    start: time
    end: time


#: Periods a sampling quota counts completed surveys over (UTC calendar periods; a week
#: starts on Monday, a quarter is a federal fiscal quarter).
QUOTA_PERIODS: tuple[str, ...] = ("day", "week", "month", "quarter")
#: Days of the week as a flow's ``window.days`` names them; Monday is 0, as in Python.
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Quota:
    """At most ``max_completed`` completed surveys per ``period`` (per value of the
    context name ``per``, or for the whole flow); past it, interactions are not sampled."""

    max_completed: int
    period: str
    per: str | None = None


@dataclass(frozen=True)
class Sampling:
    """Which interactions are offered a survey: a share of them, within quotas."""

    rate: float = 1.0
    quotas: tuple[Quota, ...] = ()


@dataclass(frozen=True)
class ContactWindow:
    """When a respondent may be contacted, besides the hours (``quiet_hours``): days of
    the week, blocked dates, and the zone of contacts whose own zone is unknown."""

    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    federal_holidays: bool = True
    blocked_dates: tuple[date, ...] = ()
    time_zone: str | None = None


#: Why a fallback channel is used: the respondent has not answered after its delay, or
#: the first text could not be delivered (a landline, an unreachable number).
FALLBACK_CAUSES: tuple[str, ...] = ("no_answer", "undeliverable")


@dataclass(frozen=True)
class Reminder:
    """A reminder sent ``after`` the first contact to a respondent who has not answered;
    ``text`` overrides the catalog's reminder wording."""

    after: timedelta
    text: Text | None = None


@dataclass(frozen=True)
class Fallback:
    """Another channel to reach the respondent on: ``after`` the first contact when there
    is no answer, or at once when the first text is ``undeliverable``."""

    channel: Channel
    reason: str = "no_answer"
    after: timedelta | None = None


@dataclass(frozen=True)
class Flow:
    id: str
    version: int
    title: Text
    agency: str
    questions: tuple[Question, ...]
    languages: tuple[str, ...] = ("en",)
    channels: tuple[Channel, ...] = CHANNELS
    context: tuple[str, ...] = ()
    pra: Pra | None = None
    expires_after: timedelta | None = None
    start_keywords: tuple[str, ...] = ()
    intro: Text | None = None
    outro: Text | None = None
    source_path: str = ""
    content_hash: str = ""  # sha256 hex of the file's bytes
    a11: A11Reporting | None = None
    alerts: tuple[AlertRule, ...] = ()
    # How staff work the cases its alert rules open (docs/cases.md); None: the defaults.
    cases: CaseSettings | None = None
    # Free-text answers: identifiers to mask, originals kept, crisis route (docs/comments.md).
    comments: CommentSettings | None = None
    # Sending rules (docs/flows.md): None takes the gateway's defaults.
    quiet_hours: QuietHours | None = None
    fatigue_days: int | None = None
    # The agency's sender to use (docs/flows.md); None: the agency's default sender.
    sender: FlowSender | None = None
    # `consent: required`: on SMS, an opt-in question goes first and nothing more is asked
    # until the respondent replies YES (docs/flows.md).
    consent_required: bool = False
    # Reminders and fallback channels (docs/reach.md); none by default.
    reminders: tuple[Reminder, ...] = ()
    fallback: tuple[Fallback, ...] = ()
    # Reaching people (docs/reach.md): None takes the defaults (everyone sampled, any day
    # but federal holidays).
    sampling: Sampling | None = None
    window: ContactWindow | None = None

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def index_of(self, question_id: str) -> int:
        for i, q in enumerate(self.questions):
            if q.id == question_id:
                return i
        raise KeyError(question_id)
