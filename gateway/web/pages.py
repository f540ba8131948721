"""What a web survey page shows: the question as form fields, the progress line, the PRA
notice (in full on the first screen, its short form on every later one), and the error a
refused answer gets.

Pure functions of the flow and the engine's state; the blueprint turns them into HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from gateway.engine.parsing import Parsed
from gateway.engine.types import SessionState
from gateway.flows.answers import AnswerValue
from gateway.flows.catalog import Catalog
from gateway.flows.model import Flow, Question
from gateway.flows.render import (
    AGREEMENT_SCALE,
    pick_text,
    pra_notice,
    render_question,
    render_text,
)

STRINGS_DIR = Path(__file__).resolve().parent / "strings"
FieldKind = Literal["radios", "checkboxes", "number", "text"]


@cache
def _english() -> Catalog:
    return Catalog.from_file(STRINGS_DIR / "en.yaml")


@cache
def strings(language: str) -> Catalog:
    """The web pages' own words in a language (English where it has none)."""
    path = STRINGS_DIR / f"{language}.yaml"
    if language == "en" or not path.is_file():
        return _english()
    return Catalog.from_file(path, fallback=_english())


@dataclass(frozen=True)
class Choice:
    """One radio button or checkbox."""

    value: str
    label: str
    id: str
    checked: bool


@dataclass(frozen=True)
class QuestionPage:
    question_id: str
    kind: FieldKind
    legend: str
    hint: str | None
    choices: tuple[Choice, ...]
    value: str  # the number or text field's value
    error: str | None
    current: int
    total: int
    optional: bool
    can_go_back: bool
    step: str
    notice: str | None  # the PRA notice: in full on the first screen, short on later ones
    intro: str | None
    last: bool
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    # On the question an SMS survey handed off to the web: its text answers are saved; on
    # a question opened from an email's answer link: the answer waits for confirmation.
    continued: str | None = None


def step_marker(state: SessionState) -> str:
    """Names the screen a form was shown on: a second submission of the same form after
    the survey moved on no longer matches, and is not recorded twice."""
    return f"{state.index}.{len(state.history)}"


def _could_ask(question: Question, flow: Flow, state: SessionState) -> bool:
    """Whether a later question may still be asked: its ``when`` holds on the answers
    given, or names a question not yet answered (then it is counted, to be safe)."""
    if not question.answerable:
        return False
    if question.when is None:
        return True
    asked = {flow.questions[i].id for i in state.history}
    if any(name not in asked for name in question.when.names()):
        return True
    return question.when.evaluate(state.answers)


def progress(flow: Flow, state: SessionState) -> tuple[int, int]:
    """(this question's number, questions asked so far plus those still reachable)."""
    current = len(state.history) + 1
    later = sum(1 for q in flow.questions[state.index + 1 :] if _could_ask(q, flow, state))
    return current, current + later


def _kind(question: Question) -> FieldKind:
    if question.type == "choice" and question.multiple:
        return "checkboxes"
    if question.type in ("rating", "yesno", "choice"):
        return "radios"
    if question.type == "number":
        return "number"
    return "text"


def _selected(value: AnswerValue | list[str] | None) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, list):
        return {str(v) for v in value}
    return {str(value)}


def _choices(question: Question, language: str, selected: set[str]) -> tuple[Choice, ...]:
    words = strings(language)
    if question.type == "rating":
        lo, hi = question.scale
        agree = question.scale == AGREEMENT_SCALE
        items = []
        for n in range(lo, hi + 1):
            label = str(n)
            if agree and n == lo:
                label = f"{n} – {words.message('survey.rating_low')}"
            elif agree and n == hi:
                label = f"{n} – {words.message('survey.rating_high')}"
            items.append((str(n), label))
    elif question.type == "yesno":
        items = [("yes", words.message("survey.yes")), ("no", words.message("survey.no"))]
    else:
        items = [(o.value, pick_text(o.label, language)) for o in question.options]
    return tuple(
        Choice(value=v, label=label, id=f"answer-{i}", checked=v in selected)
        for i, (v, label) in enumerate(items, start=1)
    )


def _hint(question: Question, language: str) -> str | None:
    words = strings(language)
    if question.type == "choice" and question.multiple:
        return words.message("survey.select_all")
    if question.type == "number":
        if question.min is not None and question.max is not None:
            return words.message("survey.number_range_hint", min=question.min, max=question.max)
        return words.message("survey.number_hint")
    if question.type == "text" and question.max_length:
        return words.message("survey.text_hint", max_length=question.max_length)
    return None


def _notice(flow: Flow, language: str, *, first: bool) -> str | None:
    """The PRA notice in full on the first screen; on every later one its short form (the
    one texts carry), so that each page names the OMB control number and its expiry: an
    email's answer link lands past the first screen."""
    return pra_notice(flow, "web" if first else "sms", language)


def error_message(
    question: Question, parsed: Parsed, submitted: str | list[str] | None, language: str
) -> str:
    """What to tell a respondent whose answer the parser refused, in plain words."""
    words = strings(language)
    kind = _kind(question)
    if parsed.skip or parsed.problem == "empty":
        if kind == "checkboxes":
            return words.message("errors.required_multiple")
        if kind == "radios":
            return words.message("errors.required_choice")
        if kind == "number":
            return words.message("errors.required_number")
        return words.message("errors.required_text_mandatory")
    if parsed.problem == "too_long":
        length = len(submitted.strip()) if isinstance(submitted, str) else 0
        return words.message("errors.too_long", max_length=question.max_length, length=length)
    if parsed.problem == "out_of_range":
        lo, hi = question.scale if question.type == "rating" else (question.min, question.max)
        if lo is not None and hi is not None:
            return words.message("errors.out_of_range", min=lo, max=hi)
        if lo is not None:
            return words.message("errors.too_low", min=lo)
        return words.message("errors.too_high", max=hi)
    if kind == "number":
        return words.message("errors.unclear_number")
    return words.message("errors.unclear_choice")


def question_page(
    flow: Flow,
    state: SessionState,
    *,
    submitted: str | list[str] | None = None,
    error: str | None = None,
    chosen: str | None = None,
) -> QuestionPage:
    """The page for the question the survey is at; ``submitted`` refills a refused form,
    ``chosen`` (an email's answer link) is selected for the respondent to confirm."""
    language = state.language or flow.default_language
    question = flow.questions[state.index]
    kind = _kind(question)
    answered = state.answers.get(question.id)
    shown: AnswerValue | list[str] | None = submitted if error is not None else answered
    if chosen is not None and error is None:
        shown = chosen
    selected = _selected(shown) if kind in ("radios", "checkboxes") else set()
    current, total = progress(flow, state)
    first = not state.history
    continued = None
    if state.handed_off and question.id == state.handoff_question:
        continued = strings(language).message("survey.continued_from_sms")
    if chosen is not None:
        continued = strings(language).message("survey.confirm_email_answer")
    return QuestionPage(
        question_id=question.id,
        kind=kind,
        legend=render_question(flow, question, "web", language, state.context),
        hint=_hint(question, language),
        choices=_choices(question, language, selected) if kind in ("radios", "checkboxes") else (),
        value="" if shown is None or isinstance(shown, list) else str(shown),
        error=error,
        current=current,
        total=total,
        optional=question.optional,
        can_go_back=bool(state.history),
        step=step_marker(state),
        notice=_notice(flow, language, first=first),
        intro=render_text(flow.intro, language, state.context) if first and flow.intro else None,
        last=current == total,
        min=question.min,
        max=question.max,
        max_length=question.max_length,
        continued=continued,
    )
