"""`gateway simulate FLOW`: hold a survey as a conversation in the terminal.

Each prompt goes to stdout prefixed with "< "; each stdin line is the respondent's reply.
On voice a line of digits is what the caller pressed ("#" alone is an empty entry), an
empty line is silence, and "rec:URL" is a recording. After an SMS hand-off to the web
(``handoff: web``) the terminal stands in for the web page: a line is the form's value
(an option value, several separated by commas). Nothing is stored or sent.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

import click

from config.settings import Settings
from gateway.engine.engine import new_state, step
from gateway.engine.types import LINK_PLACEHOLDER, Event, Expect, SessionState
from gateway.flows.model import Flow, Question
from gateway.flows.registry import FlowRegistry

#: Shown where a hand-off text carries the web survey's link.
SIMULATED_LINK = "[web survey link]"


def _load_flow(flow_id: str) -> Flow:
    settings = Settings.from_env()
    registry = FlowRegistry.load_directory(settings.flows_dir)
    flow = registry.get(flow_id)
    if flow is not None:
        return flow
    refusals = [str(error) for errors in registry.refused.values() for error in errors]
    valid = ", ".join(sorted(registry.flows)) or "none"
    message = f"no flow {flow_id!r} in {settings.flows_dir}; valid flow ids: {valid}"
    if refusals:
        message += "\nfiles refused:\n" + "\n".join(refusals)
    raise click.UsageError(message)


def _parse_context(pairs: tuple[str, ...]) -> dict[str, str]:
    context: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--context")
        context[name.strip()] = value
    return context


def _describe(expect: Expect) -> str:
    """The keypad instruction a caller would follow, for the transcript."""
    if expect.kind == "text":
        hint = f"record up to {expect.max_length}s: type rec:URL, or an empty line"
    elif expect.single_key:
        hint = f"press a key: {' '.join(expect.keys)}"
    elif expect.multiple:
        # A caller presses several keys, then #: one line is that whole sequence, one
        # digit a key, no spaces ("13#" is 1 and 3).
        hint = f"press any of {' '.join(expect.keys)}, all on one line, then #"
        if len(expect.keys) > 1:
            first, second = expect.keys[:2]
            hint += f": {first}{second}# is {first} and {second}"
    else:
        hint = "enter digits, then #"
    if expect.skip_key:
        hint += f"; {expect.skip_key} skips"
    return f"[{hint}]"


def _web_hint(question: Question) -> str:
    """What the web page lets the respondent enter, as form values typed in the terminal."""
    if question.type == "choice":
        values = ", ".join(o.value for o in question.options)
        return f"(web form: {values}{'; several separated by commas' if question.multiple else ''})"
    if question.type == "yesno":
        return "(web form: yes or no)"
    if question.type == "rating":
        return f"(web form: {question.scale[0]} to {question.scale[1]})"
    return "(web form: type the answer)"


def _event(channel: str, line: str) -> Event:
    if channel != "voice":
        return Event("text", line)
    if line.startswith("rec:"):
        return Event("recording", line[4:].strip())
    if line == "":
        return Event("no_input")
    return Event("digits", line.strip().removesuffix("#"))


def _summary(flow: Flow, state: SessionState) -> str:
    return json.dumps(
        {
            "flow": flow.id,
            "version": flow.version,
            "channel": state.channel,
            "language": state.language,
            "status": state.status,
            "answers": state.answers,
        },
        ensure_ascii=False,
        indent=2,
    )


def converse(flow: Flow, state: SessionState, lines: TextIO, max_reprompts: int) -> SessionState:
    """Run the survey against lines of input, printing prompts; returns the last state."""
    echo = not lines.isatty()
    event = Event("start")
    while True:
        result = step(flow, state, event, max_reprompts=max_reprompts)
        state = result.state
        for prompt in result.prompts:
            click.echo(f"< {prompt.text.replace(LINK_PLACEHOLDER, SIMULATED_LINK)}")
            if state.channel == "voice" and prompt.expect is not None:
                click.echo(f"  {_describe(prompt.expect)}")
            if state.handed_off and prompt.kind in ("question", "reprompt") and prompt.question_id:
                click.echo(f"  {_web_hint(flow.question(prompt.question_id))}")
        if result.finished:
            return state
        if any(p.kind == "handoff" for p in result.prompts):
            # The terminal stands in for the web page the link opens: it asks the question.
            event = Event("start")
            continue
        line = lines.readline()
        if not line:
            return state
        line = line.rstrip("\r\n")
        if echo:
            click.echo(f"> {line}")
        event = _event(state.channel, line)
        if state.channel == "web" and flow.questions[state.index].multiple:
            event = Event("text", [v.strip() for v in line.split(",") if v.strip()])


@click.command("simulate")
@click.argument("flow_id", metavar="FLOW")
@click.option("--channel", type=click.Choice(["sms", "voice"]), default="sms", show_default=True)
@click.option("--language", default=None, help="Language code (default: the flow's first).")
@click.option(
    "--context",
    "context_pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A context value the flow uses; repeat for several.",
)
def simulate_command(
    flow_id: str, channel: str, language: str | None, context_pairs: tuple[str, ...]
) -> None:
    """Hold a survey in the terminal: prompts on stdout, one reply per stdin line."""
    flow = _load_flow(flow_id)
    context = _parse_context(context_pairs)
    missing = [name for name in flow.context if name not in context]
    if missing:
        needed = " ".join(f"--context {name}=..." for name in missing)
        raise click.UsageError(f"flow {flow.id!r} needs context values: {needed}")
    if language is not None and language not in flow.languages:
        raise click.UsageError(
            f"flow {flow.id!r} has no language {language!r}; it offers {', '.join(flow.languages)}"
        )
    state = new_state(flow, channel, language, context)
    max_reprompts = Settings.from_env().max_reprompts
    stdin = sys.stdin
    state = converse(flow, state, stdin, max_reprompts)
    if state.status == "active":
        asked = flow.questions[state.index].id if state.phase == "question" else state.phase
        click.echo(f"(input ended at {asked!r}; {len(state.answers)} answers so far)")
    click.echo(_summary(flow, state))
