"""The values the engine takes and gives: events in, a new state and outputs out.

A :class:`SessionState` is plain data and round-trips through JSON (``to_dict`` /
``from_dict``) so the store can keep it in one column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.flows.answers import AnswerValue

EventKind = Literal[
    "start",  # begin the survey: notice, intro, first question
    "text",  # a typed reply (SMS, or a web form value)
    "digits",  # keypad digits (voice); "" for # alone
    "recording",  # a voice recording's URL; None or "" for an empty recording
    "no_input",  # the respondent said nothing before a timeout (voice)
    "expire",  # the survey's time is up
    "back",  # go back to the previous question (web)
]

Phase = Literal["new", "language", "question", "done"]
Status = Literal["active", "completed", "expired"]


@dataclass(frozen=True)
class Event:
    kind: EventKind
    value: str | list[str] | None = None


@dataclass
class SessionState:
    """Where a respondent is in a flow. Mutated only by the engine, on a copy."""

    channel: str
    language: str | None  # None until chosen (a voice call offered a language menu)
    context: dict[str, str] = field(default_factory=dict)
    phase: Phase = "new"
    index: int = 0  # index in flow.questions of the question being asked
    answers: dict[str, AnswerValue] = field(default_factory=dict)
    attempts: int = 0  # invalid replies to the current question so far
    history: list[int] = field(default_factory=list)  # indexes asked, for "back"
    status: Status = "active"
    # Set when an SMS survey reached a question marked `handoff: web`: the channel it
    # left (then ``channel`` is the one it continues on) and the question it continued at.
    handed_off_from: str | None = None
    handoff_question: str | None = None

    @property
    def handed_off(self) -> bool:
        return self.handed_off_from is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "language": self.language,
            "context": dict(self.context),
            "phase": self.phase,
            "index": self.index,
            "answers": dict(self.answers),
            "attempts": self.attempts,
            "history": list(self.history),
            "status": self.status,
            "handed_off_from": self.handed_off_from,
            "handoff_question": self.handoff_question,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionState:
        return cls(
            channel=data["channel"],
            language=data.get("language"),
            context=dict(data.get("context") or {}),
            phase=data.get("phase", "new"),
            index=int(data.get("index", 0)),
            answers=dict(data.get("answers") or {}),
            attempts=int(data.get("attempts", 0)),
            history=list(data.get("history") or []),
            status=data.get("status", "active"),
            handed_off_from=data.get("handed_off_from"),
            handoff_question=data.get("handoff_question"),
        )


ExpectKind = Literal["rating", "yesno", "choice", "number", "text", "language"]


@dataclass(frozen=True)
class Expect:
    """What kind of answer the current prompt waits for; voice turns it into TwiML."""

    kind: ExpectKind
    single_key: bool  # one keypress answers it (numDigits=1); else digits end with '#'
    keys: tuple[str, ...] = ()  # valid single keys, when single_key
    multiple: bool = False  # a multiple choice: keys one at a time, then '#'
    optional: bool = False
    skip_key: str | None = None  # the keypad key that skips an optional question
    max_length: int | None = None  # text: characters (SMS/web) or seconds (voice)


PromptKind = Literal[
    "language_menu",
    "notice",  # the PRA notice
    "intro",
    "question",
    "reprompt",  # invalid input: says what is expected, then asks again
    "info",  # message questions and other statements
    "outro",
    "closed",  # a reply after the survey ended
    "handoff",  # SMS: the rest is answered on the web; the text keeps LINK_PLACEHOLDER
]

#: Where a "handoff" prompt's text puts the web survey link. The engine makes no links
#: (it knows no secret and no address): the SMS layer puts the signed link in its place.
LINK_PLACEHOLDER = "{link}"


@dataclass(frozen=True)
class Prompt:
    kind: PromptKind
    text: str
    question_id: str | None = None
    expect: Expect | None = None


@dataclass(frozen=True)
class RecordedAnswer:
    """One answer the step recorded, for the store's answer rows."""

    question_id: str
    raw: str | None  # the input as received (None when skipped or unanswered)
    value: AnswerValue
    outcome: Literal["answered", "skipped", "unanswered"]


@dataclass(frozen=True)
class StepResult:
    state: SessionState
    prompts: tuple[Prompt, ...] = ()
    answers: tuple[RecordedAnswer, ...] = ()
    invalid: bool = False  # the event did not parse as an answer and was re-prompted
    # Question ids whose earlier answers this step removed: a changed answer (web "back")
    # made their `when` false, so they are no longer part of the response.
    dropped: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        return self.state.status != "active"
