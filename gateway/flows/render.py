"""The words of a question as sent or spoken on a channel.

A question's own text is its prompt (or the flow's override for that channel, used as
is); the gateway adds its answer instructions for the channel and question type from the
message catalog: "Reply YES or NO." on SMS, "For yes, press 1. For no, press 2." on the
phone, nothing on the web, where the form itself shows how to answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from gateway.flows.catalog import catalog
from gateway.flows.model import Flow, Question, Text

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")

#: Ratings on this scale read as the A-11 agreement scale (1 = strongly disagree).
AGREEMENT_SCALE = (1, 5)

#: How long a voice recording may last when the question does not say.
DEFAULT_MAX_SECONDS = 60


def override_channel(channel: str) -> str:
    """The override key a channel reads: email links open the web pages."""
    return "web" if channel == "email" else channel


def pick_text(text: Text, language: str) -> str:
    """The text in a language, else English, else the first language written."""
    if language in text:
        return text[language]
    if "en" in text:
        return text["en"]
    return next(iter(text.values()), "")


def fill(template: str, context: Mapping[str, str] | None) -> str:
    """Fill ``{name}`` from context and turn ``{{``/``}}`` into literal braces; names the
    context lacks (or every name, with no context) stay as written."""
    if "{" not in template and "}" not in template:
        return template

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]
        if context is None:
            return match.group(0)
        return str(context.get(name, match.group(0)))

    return _PLACEHOLDER.sub(replace, template)


def render_text(text: Text, language: str, context: Mapping[str, str] | None) -> str:
    """A flow text in a language, with context values filled in."""
    return fill(pick_text(text, language), context)


def _sms_instructions(question: Question, language: str) -> list[str]:
    cat = catalog(language)
    lo, hi = question.scale
    if question.type == "rating":
        key = "sms.rating_agree" if question.scale == AGREEMENT_SCALE else "sms.rating"
        parts = [cat.message(key, lo=lo, hi=hi)]
    elif question.type == "yesno":
        parts = [cat.message("sms.yesno")]
    elif question.type == "choice":
        listing = ", ".join(f"{o.key} {pick_text(o.label, language)}" for o in question.options)
        key = "sms.choice_multiple" if question.multiple else "sms.choice"
        parts = [f"{listing}.", cat.message(key)]
    elif question.type == "number":
        if question.min is not None and question.max is not None:
            parts = [cat.message("sms.number_range", min=question.min, max=question.max)]
        else:
            parts = [cat.message("sms.number")]
    elif question.type == "text":
        parts = [cat.message("sms.text")]
    else:
        return []
    if question.optional:
        parts.append(cat.message("sms.skip"))
    return parts


def _voice_instructions(question: Question, language: str) -> list[str]:
    cat = catalog(language)
    lo, hi = question.scale
    if question.type == "rating":
        if hi >= 10:
            parts = [cat.message("voice.rating_long", lo=lo, hi=hi)]
        elif question.scale == AGREEMENT_SCALE:
            parts = [cat.message("voice.rating_agree", lo=lo, hi=hi)]
        else:
            parts = [cat.message("voice.rating", lo=lo, hi=hi)]
    elif question.type == "yesno":
        parts = [cat.message("voice.yesno")]
    elif question.type == "choice":
        parts = [
            cat.message("voice.choice_option", label=pick_text(o.label, language), key=o.key)
            for o in question.options
        ]
        if question.multiple:
            parts.append(cat.message("voice.choice_multiple"))
    elif question.type == "number":
        parts = [cat.message("voice.number")]
    elif question.type == "text":
        parts = [cat.message("voice.text")]
    else:
        return []
    if question.optional:
        parts.append(cat.message("voice.skip"))
    return parts


def render_question(
    flow: Flow,
    question: Question,
    channel: str,
    language: str,
    context: Mapping[str, str] | None = None,
) -> str:
    """The question as sent (SMS), spoken (voice) or shown (web, email) in a language."""
    override = question.overrides.get(override_channel(channel))
    if override:
        return render_text(override, language, context)
    prompt = render_text(question.prompt, language, context)
    if channel == "sms":
        extra = _sms_instructions(question, language)
    elif channel == "voice":
        extra = _voice_instructions(question, language)
    else:
        extra = []
    return " ".join([prompt, *extra]) if extra else prompt


def format_date(day: date, language: str) -> str:
    """A date written out in a language ("June 30, 2027", "30 de junio de 2027")."""
    cat = catalog(language)
    months = cat.raw("pra.months")
    return cat.message("pra.date", day=day.day, month=months[day.month - 1], year=day.year)


def _spoken_digits(number: str) -> str:
    # Text-to-speech reads "1234-5678" as a quantity; digit by digit is how people say it.
    groups = re.split(r"[^0-9A-Za-z]+", number)
    return ", ".join(" ".join(group) for group in groups if group)


def pra_notice(flow: Flow, channel: str, language: str, *, link: str | None = None) -> str | None:
    """The Paperwork Reduction Act notice: short on SMS (with a link to the full notice
    when one is given), in full on the phone and the web; None when the flow has none."""
    pra = flow.pra
    if pra is None:
        return None
    cat = catalog(language)
    expires = format_date(pra.expiration_date, language)
    if channel == "sms":
        key = "pra.short" if pra.burden_minutes is not None else "pra.short_no_burden"
        text = cat.message(
            key, minutes=pra.burden_minutes, omb=pra.omb_control_number, expires=expires
        )
        return f"{text} {cat.message('pra.link', link=link)}" if link else text
    omb = _spoken_digits(pra.omb_control_number) if channel == "voice" else pra.omb_control_number
    minutes = pra.burden_minutes
    burden = (
        ""
        if minutes is None
        else cat.message("pra.burden_one" if minutes == 1 else "pra.burden", minutes=minutes)
    )
    text = cat.message("pra.full", burden=burden, omb=omb, expires=expires)
    return " ".join(text.split())
