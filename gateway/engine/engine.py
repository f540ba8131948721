"""The survey engine: ``step(flow, state, event)`` gives the next state and what to say.

Pure: no I/O, no clock, and the input state is never changed (the step works on a copy).

How a survey runs:

- ``start`` says (in order) the language menu on a voice call whose language is not yet
  chosen, the PRA notice, the intro, any leading ``message`` questions, then the first
  question whose ``when`` holds. ``start`` during a survey asks the current question again.
- A reply is parsed with the channel's parser. A valid one is recorded and the survey
  moves on; an invalid one is re-prompted up to ``max_reprompts`` times, after which the
  question is recorded as unanswered and the survey moves on. Silence on the phone counts
  as an invalid reply. A skip is recorded as skipped on an optional question and refused
  on a required one.
- Questions whose ``when`` is false are neither asked nor recorded.
- ``back`` (web) returns to the previously asked question, keeping every answer. When a
  changed answer turns a later question's ``when`` false, that question's answer is
  dropped (listed in ``StepResult.dropped``), so a survey never keeps an answer to a
  question it would no longer ask.
- On SMS, a question marked ``handoff: web`` is not asked: the step says a "handoff"
  prompt (its text keeps :data:`LINK_PLACEHOLDER` for the SMS layer's link) and the state
  moves to the web channel at that question, so the next event is a web form's answer to
  it. Other channels ask the question as usual.
- ``expire`` ends an active survey without a word; any event after the end gets the
  "closed" reply and leaves the state as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from gateway.engine.parsing import Parsed, parse_keypad, parse_sms, parse_web
from gateway.engine.types import (
    LINK_PLACEHOLDER,
    Event,
    Expect,
    ExpectKind,
    Prompt,
    PromptKind,
    RecordedAnswer,
    SessionState,
    StepResult,
)
from gateway.flows.answers import AnswerValue
from gateway.flows.catalog import catalog
from gateway.flows.model import Flow, Question
from gateway.flows.render import (
    DEFAULT_MAX_SECONDS,
    pra_notice,
    render_question,
    render_text,
)

SKIP_KEY = "*"
Outcome = Literal["answered", "skipped", "unanswered"]


def new_state(
    flow: Flow, channel: str, language: str | None, context: Mapping[str, str]
) -> SessionState:
    """A survey not yet started. ``language`` None means the default language, except on
    a voice call to a flow in several languages, which starts with a language menu."""
    if language is not None and language not in flow.languages:
        raise ValueError(
            f"flow {flow.id!r} has no language {language!r}; it offers {', '.join(flow.languages)}"
        )
    if language is None and not (channel == "voice" and len(flow.languages) > 1):
        language = flow.default_language
    return SessionState(channel=channel, language=language, context=dict(context))


def language_keys(flow: Flow) -> dict[str, str]:
    """Keypad key -> language for the voice language menu, each key from that language's
    catalog; positions 1, 2, 3 ... when two catalogs claim the same key."""
    keys = {catalog(lang).message("language.menu_key"): lang for lang in flow.languages}
    if len(keys) < len(flow.languages):
        keys = {str(n): lang for n, lang in enumerate(flow.languages, start=1)}
    return keys


def expect_for(question: Question, channel: str) -> Expect:
    """What the current question waits for, in keypad terms on voice."""
    voice = channel == "voice"
    keys: tuple[str, ...] = ()
    single_key = False
    max_length: int | None = None
    kind: ExpectKind = "text"
    if question.type == "rating":
        kind = "rating"
        lo, hi = question.scale
        if 0 <= lo and hi < 10:
            single_key, keys = True, tuple(str(n) for n in range(lo, hi + 1))
    elif question.type == "yesno":
        kind, single_key, keys = "yesno", True, ("1", "2")
    elif question.type == "choice":
        kind, keys = "choice", tuple(o.key for o in question.options)
        single_key = not question.multiple and all(len(k) == 1 for k in keys)
    elif question.type == "number":
        kind = "number"
    else:
        max_length = (question.max_seconds or DEFAULT_MAX_SECONDS) if voice else question.max_length
    return Expect(
        kind=kind,
        single_key=single_key,
        keys=keys,
        multiple=question.multiple and question.type == "choice",
        optional=question.optional,
        skip_key=SKIP_KEY if voice and question.optional else None,
        max_length=max_length,
    )


def _copy(state: SessionState) -> SessionState:
    return SessionState(
        channel=state.channel,
        language=state.language,
        context=dict(state.context),
        phase=state.phase,
        index=state.index,
        answers=dict(state.answers),
        attempts=state.attempts,
        history=list(state.history),
        status=state.status,
        handed_off_from=state.handed_off_from,
        handoff_question=state.handoff_question,
    )


def _raw(value: str | list[str] | None) -> str | None:
    if isinstance(value, list):
        return ",".join(value)
    return value


class _Step:
    """One step's working copy of the state and what it has produced so far."""

    def __init__(self, flow: Flow, state: SessionState, max_reprompts: int) -> None:
        self.flow = flow
        self.state = _copy(state)
        self.max_reprompts = max_reprompts
        self.prompts: list[Prompt] = []
        self.answers: list[RecordedAnswer] = []
        self.dropped: list[str] = []
        self.invalid = False

    @property
    def language(self) -> str:
        return self.state.language or self.flow.default_language

    def result(self) -> StepResult:
        return StepResult(
            state=self.state,
            prompts=tuple(self.prompts),
            answers=tuple(self.answers),
            invalid=self.invalid,
            dropped=tuple(self.dropped),
        )

    def say(self, kind: PromptKind, text: str, question: Question | None = None) -> None:
        expect = expect_for(question, self.state.channel) if question is not None else None
        qid = question.id if question is not None else None
        self.prompts.append(Prompt(kind=kind, text=text, question_id=qid, expect=expect))

    # --- the language menu (voice) ---

    def language_menu(self, prefix: str | None = None) -> None:
        keys = language_keys(self.flow)
        lines = [catalog(lang).message("language.menu", key=key) for key, lang in keys.items()]
        text = " ".join([prefix, *lines] if prefix else lines)
        expect = Expect(kind="language", single_key=True, keys=tuple(keys))
        self.prompts.append(Prompt(kind="language_menu", text=text, expect=expect))

    def choose_language(self, event: Event) -> None:
        choice = language_keys(self.flow).get(str(event.value or "").strip().rstrip("#"))
        if event.kind in ("digits", "text") and choice is not None:
            self.state.language = choice
        else:
            self.state.attempts += 1
            if self.state.attempts <= self.max_reprompts:
                self.invalid = True
                sorry = catalog(self.flow.default_language).message("reprompt.voice")
                self.language_menu(prefix=sorry)
                return
            self.state.language = self.flow.default_language
        self.state.attempts = 0
        self.begin()

    # --- moving through the flow ---

    def start(self) -> None:
        if self.state.language is None:
            self.state.phase = "language"
            self.state.attempts = 0
            self.language_menu()
            return
        self.begin()

    def begin(self) -> None:
        notice = pra_notice(self.flow, self.state.channel, self.language)
        if notice:
            self.say("notice", notice)
        if self.flow.intro:
            self.say("intro", render_text(self.flow.intro, self.language, self.state.context))
        self.advance_from(-1)

    def applies(self, question: Question) -> bool:
        return question.when is None or question.when.evaluate(self.state.answers)

    def advance_from(self, index: int) -> None:
        """Ask the next question after ``index`` whose ``when`` holds, saying any message
        questions on the way; finish after the last."""
        questions = self.flow.questions
        for position in range(index + 1, len(questions)):
            question = questions[position]
            if not self.applies(question):
                self.drop(question.id)
                continue
            if question.type == "message":
                self.say("info", self.render(question), question=None)
                continue
            self.state.phase = "question"
            self.state.index = position
            self.state.attempts = 0
            if question.handoff is not None and self.state.channel == "sms":
                self.hand_off(question, question.handoff)
                return
            self.say("question", self.render(question), question)
            return
        outro = self.flow.outro
        text = (
            render_text(outro, self.language, self.state.context)
            if outro
            else catalog(self.language).message("outro_default")
        )
        self.say("outro", text)
        self.state.phase = "done"
        self.state.status = "completed"

    def hand_off(self, question: Question, channel: str) -> None:
        """Continue the survey at ``question`` on ``channel``; say where, not the question."""
        self.state.handed_off_from = self.state.channel
        self.state.handoff_question = question.id
        self.state.channel = channel
        text = catalog(self.language).message("handoff.link", link=LINK_PLACEHOLDER)
        self.prompts.append(Prompt(kind="handoff", text=text, question_id=question.id))

    def render(self, question: Question) -> str:
        return render_question(
            self.flow, question, self.state.channel, self.language, self.state.context
        )

    def drop(self, question_id: str) -> None:
        if question_id in self.state.answers:
            del self.state.answers[question_id]
            self.dropped.append(question_id)

    def prune_after(self, index: int) -> None:
        """Drop answers to later questions that a changed answer no longer asks."""
        for question in self.flow.questions[index + 1 :]:
            if question.id in self.state.answers and not self.applies(question):
                self.drop(question.id)

    def record(
        self, question: Question, value: AnswerValue, raw: str | None, outcome: Outcome
    ) -> None:
        self.state.answers[question.id] = value
        self.answers.append(
            RecordedAnswer(question_id=question.id, raw=raw, value=value, outcome=outcome)
        )
        self.prune_after(self.state.index)
        self.state.history.append(self.state.index)
        self.advance_from(self.state.index)

    # --- replies ---

    def reply(self, event: Event) -> None:
        question = self.flow.questions[self.state.index]
        if event.kind == "no_input":
            self.refuse(question, silence=True)
            return
        parsed = self.parse(question, event)
        if parsed.skip and question.optional:
            self.record(question, None, None, "skipped")
        elif parsed.ok and not parsed.skip:
            self.record(question, parsed.value, _raw(event.value), "answered")
        else:
            self.refuse(question, parsed=parsed)

    def parse(self, question: Question, event: Event) -> Parsed:
        channel = self.state.channel
        value = event.value
        if channel == "voice":
            if question.type == "text" and event.kind == "recording":
                url = str(value or "").strip()
                return Parsed(ok=True, value=url) if url else Parsed(ok=False, skip=True)
            if event.kind == "recording":
                return Parsed(ok=False, problem="unclear")
            return parse_keypad(question, _raw(value) or "")
        if channel == "sms":
            return parse_sms(question, _raw(value) or "", self.language)
        return parse_web(question, value)

    def refuse(
        self, question: Question, *, parsed: Parsed | None = None, silence: bool = False
    ) -> None:
        self.invalid = True
        self.state.attempts += 1
        cat = catalog(self.language)
        if self.state.attempts > self.max_reprompts:
            self.say("info", cat.message("reprompt.moving_on"))
            self.record(question, None, None, "unanswered")
            return
        self.say(
            "reprompt", f"{self.hint(question, parsed, silence)} {self.render(question)}", question
        )

    def hint(self, question: Question, parsed: Parsed | None, silence: bool) -> str:
        """A short sentence saying what went wrong or what is expected."""
        cat = catalog(self.language)
        if self.state.channel == "voice":
            if silence:
                return cat.message("reprompt.voice_silence")
            if question.type == "text" and parsed is not None and parsed.skip:
                return cat.message("reprompt.voice_recording")
            return cat.message("reprompt.voice")
        if parsed is not None and parsed.skip:
            return cat.message("reprompt.required")
        if question.type == "rating":
            lo, hi = question.scale
            return cat.message("reprompt.rating", lo=lo, hi=hi)
        if question.type == "choice":
            return cat.message(
                "reprompt.choice_multiple" if question.multiple else "reprompt.choice"
            )
        if question.type == "number":
            if question.min is not None and question.max is not None:
                return cat.message("reprompt.number_range", min=question.min, max=question.max)
            return cat.message("reprompt.number")
        if question.type == "text" and parsed is not None and parsed.problem == "too_long":
            return cat.message("reprompt.text_too_long", max_length=question.max_length)
        if question.type == "text":
            return cat.message("reprompt.text")
        return cat.message("reprompt.yesno")

    def back(self) -> None:
        if self.state.history:
            self.state.index = self.state.history.pop()
        self.state.attempts = 0
        question = self.flow.questions[self.state.index]
        self.say("question", self.render(question), question)


def step(flow: Flow, state: SessionState, event: Event, *, max_reprompts: int = 2) -> StepResult:
    """Apply one event to a survey: the new state, the prompts to send, answers recorded."""
    work = _Step(flow, state, max_reprompts)
    current = work.state
    if current.status != "active" or current.phase == "done":
        if event.kind != "expire":
            work.say("closed", catalog(work.language).message("closed"))
        return StepResult(state=_copy(state), prompts=tuple(work.prompts))
    if event.kind == "expire":
        current.status = "expired"
        current.phase = "done"
    elif current.phase == "new":
        # Whatever arrives first begins the survey; a reply before the start is not an answer.
        work.start()
    elif current.phase == "language":
        if event.kind == "start":
            work.language_menu()
        else:
            work.choose_language(event)
    elif event.kind == "start":
        question = flow.questions[current.index]
        work.say("question", work.render(question), question)
    elif event.kind == "back":
        work.back()
    else:
        work.reply(event)
    return work.result()
