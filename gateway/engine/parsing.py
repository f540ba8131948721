"""Answer parsers: a reply as received to an answer value, or a reason to ask again.

SMS replies are read the way people write them ("5 stars", "yep", "1 and 3", "about 20
minutes", "cinco", "👍"), but never guessed at: a reply that could mean two things
("4 or 5", "yes no", "45" on a 1-5 scale) is refused so the engine asks again. Keypad
digits follow the contract's keypad rules; web values are checked strictly.

Every parser returns a :class:`Parsed`; none raises on any input.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from gateway.flows.answers import AnswerValue
from gateway.flows.catalog import catalog
from gateway.flows.model import Question

ParseProblem = str  # "empty", "unclear", "out_of_range", "too_long"

SKIP_KEY = "*"
# Longer digit strings are never a valid answer; the cap keeps int() cheap and safe.
MAX_DIGITS = 9


@dataclass(frozen=True)
class Parsed:
    """A parsed reply. ``skip`` means the respondent asked to skip; ``ok`` says whether
    the reply answers the question (a skip is ok only on an optional question)."""

    ok: bool
    value: AnswerValue = None
    skip: bool = False
    problem: ParseProblem | None = None


def _answer(value: AnswerValue) -> Parsed:
    return Parsed(ok=True, value=value)


def _refuse(problem: ParseProblem) -> Parsed:
    return Parsed(ok=False, problem=problem)


def _skip(question: Question) -> Parsed:
    return Parsed(ok=question.optional, skip=True)


# --- reading free text ------------------------------------------------------------------

_MODIFIERS = re.compile("[\u200d\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]")
_TOKEN = re.compile(r"\d+|[a-z]+|[^\sa-z0-9]")


def fold(text: str) -> str:
    """Lower case without accents, emoji modifiers or apostrophes: "Sí" -> "si"."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = _MODIFIERS.sub("", text).replace("'", "").replace("\u2019", "")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class _Lexicon:
    yes: frozenset[str]
    no: frozenset[str]
    unsure: tuple[str, ...]
    skip: frozenset[str]
    numbers: dict[str, int]
    joiners: frozenset[str]
    filler: frozenset[str]
    stars: frozenset[str]
    thumbs_up: frozenset[str]
    thumbs_down: frozenset[str]


@cache
def _lexicon(language: str) -> _Lexicon:
    cat = catalog(language)

    def folded(key: str) -> frozenset[str]:
        return frozenset(fold(w) for w in cat.words(key))

    numbers: dict[str, int] = {}
    for lang in dict.fromkeys(["en", language]):
        for value, word in enumerate(catalog(lang).own_words("numbers")):
            numbers[fold(word)] = value
    return _Lexicon(
        yes=folded("yes"),
        no=folded("no"),
        unsure=tuple(folded("unsure")),
        skip=folded("skip"),
        numbers=numbers,
        joiners=folded("and"),
        filler=folded("filler"),
        stars=folded("stars"),
        thumbs_up=folded("thumbs_up"),
        thumbs_down=folded("thumbs_down"),
    )


@dataclass(frozen=True)
class _Reply:
    folded: str
    words: tuple[str, ...]  # letters and digit runs
    symbols: tuple[str, ...]  # emoji and other single symbols, punctuation excluded

    @property
    def phrase(self) -> str:
        return " ".join(self.words)


def _read(text: str) -> _Reply:
    folded = fold(text)
    words: list[str] = []
    symbols: list[str] = []
    for token in _TOKEN.findall(folded):
        if token[0].isalnum():
            words.append(token)
        elif unicodedata.category(token)[0] == "S":
            symbols.append(token)
    return _Reply(folded, tuple(words), tuple(symbols))


def _has_phrase(reply: _Reply, phrase: str) -> bool:
    return f" {phrase} " in f" {reply.phrase} "


def _is_skip(reply: _Reply, lex: _Lexicon) -> bool:
    return not reply.symbols and reply.phrase in lex.skip


def _to_int(digits: str) -> int | None:
    digits = digits.lstrip("0") or "0" if digits.isdigit() else digits
    if len(digits.lstrip("-")) > MAX_DIGITS:
        return None
    try:
        return int(digits)
    except ValueError:
        return None


def _one_number(reply: _Reply, lex: _Lexicon, *, stars: bool) -> int | None | str:
    """The single number in a reply, None when there is none, "many" when several."""
    found: list[int | None] = []
    loose = False  # words that are neither numbers nor filler
    for word in reply.words:
        if word.isdigit():
            found.append(_to_int(word))
        elif word in lex.numbers:
            found.append(lex.numbers[word])
        elif word not in lex.filler:
            loose = True
    star_count = sum(1 for s in reply.symbols if s in lex.stars)
    if not found and stars and star_count and star_count == len(reply.symbols) and not loose:
        return star_count
    if len(found) > 1:
        return "many"
    if not found:
        return None
    digit_written = any(w.isdigit() for w in reply.words)
    # A number written as a word counts only in a short reply of filler words: "no one
    # helped" is not a rating of 1.
    if loose and not digit_written:
        return None
    return found[0] if found[0] is not None else "many"


def _signed_number(folded: str, lex: _Lexicon, *, stars: bool) -> int | None | str:
    """:func:`_one_number` keeping a leading minus sign: "-1" is minus one, not one."""
    value = _one_number(_read(folded), lex, stars=stars)
    if isinstance(value, int) and re.search(r"(?:^|\s)-\d", folded):
        return -value
    return value


def _in_range(value: int, lo: int | None, hi: int | None) -> bool:
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def _number_answer(value: int | None | str, lo: int | None, hi: int | None) -> Parsed:
    if value is None:
        return _refuse("unclear")
    if isinstance(value, str):
        return _refuse("unclear")
    if not _in_range(value, lo, hi):
        return _refuse("out_of_range")
    return _answer(value)


# --- SMS --------------------------------------------------------------------------------


def _sms_rating(question: Question, reply: _Reply, lex: _Lexicon) -> Parsed:
    lo, hi = question.scale
    # "4/5", "4 out of 5", "4 de 5": the scale's top is not a second answer.
    folded = re.sub(rf"(\d+)\s*(?:/|out of|de)\s*{hi}(?!\d)", r"\1", reply.folded)
    return _number_answer(_signed_number(folded, lex, stars=True), lo, hi)


def _sms_yesno(reply: _Reply, lex: _Lexicon) -> Parsed:
    if any(_has_phrase(reply, phrase) for phrase in lex.unsure):
        return _refuse("unclear")
    yes = any(w in lex.yes for w in reply.words) or any(s in lex.thumbs_up for s in reply.symbols)
    yes = yes or any(" " in p and _has_phrase(reply, p) for p in lex.yes)
    no = any(w in lex.no for w in reply.words) or any(s in lex.thumbs_down for s in reply.symbols)
    no = no or any(" " in p and _has_phrase(reply, p) for p in lex.no)
    if yes == no:
        return _refuse("unclear")
    return _answer("yes" if yes else "no")


def _option_phrases(question: Question, language: str) -> list[tuple[str, str]]:
    """(folded phrase, option key) for every label and value, longest phrase first."""
    phrases: list[tuple[str, str]] = []
    for option in question.options:
        names = {option.value, *(option.label.get(lang, "") for lang in (language, "en"))}
        phrases.extend((" ".join(_read(n).words), option.key) for n in names if n)
    return sorted((p for p in phrases if p), key=lambda p: -len(p[0]))


def _sms_choice(question: Question, reply: _Reply, lex: _Lexicon, language: str) -> Parsed:
    keys = {o.key for o in question.options}
    text = f" {reply.phrase} "
    for phrase, key in _option_phrases(question, language):
        text = text.replace(f" {phrase} ", f" {key} ")
    label_words: dict[str, set[str]] = {}
    for option in question.options:
        for lang in (language, "en"):
            for word in _read(option.label.get(lang, "")).words:
                label_words.setdefault(word, set()).add(option.key)
    chosen: list[str] = []
    for piece in text.split():
        if piece in keys:
            chosen.append(piece)
        elif piece in lex.numbers and str(lex.numbers[piece]) in keys:
            chosen.append(str(lex.numbers[piece]))
        elif piece in lex.joiners or piece in lex.filler:
            continue
        elif len(piece) >= 3 and len(label_words.get(piece, ())) == 1:
            chosen.extend(label_words[piece])
        else:
            return _refuse("unclear")
    distinct = set(chosen)
    if not distinct or reply.symbols:
        return _refuse("unclear")
    if not question.multiple:
        if len(distinct) != 1:
            return _refuse("unclear")
        return _answer(_values_for_keys(question, distinct)[0])
    return _answer(_values_for_keys(question, distinct))


def _values_for_keys(question: Question, keys: set[str]) -> list[str]:
    return [o.value for o in question.options if o.key in keys]


def _sms_number(question: Question, reply: _Reply, lex: _Lexicon) -> Parsed:
    folded = re.sub(r"(\d),(\d{3})(?!\d)", r"\1\2", reply.folded)  # 1,200 is one number
    return _number_answer(_signed_number(folded, lex, stars=False), question.min, question.max)


def parse_text(question: Question, text: str) -> Parsed:
    """A typed free-text answer: stripped, not empty, within ``max_length``."""
    answer = text.strip()
    if not answer:
        return _refuse("empty")
    if question.max_length is not None and len(answer) > question.max_length:
        return _refuse("too_long")
    return _answer(answer)


def parse_sms(question: Question, text: str, language: str) -> Parsed:
    """An SMS reply, read in the respondent's language and in English."""
    lex = _lexicon(language)
    reply = _read(text)
    if not reply.words and not reply.symbols:
        return _refuse("empty")
    if _is_skip(reply, lex):
        return _skip(question)
    if question.type == "rating":
        return _sms_rating(question, reply, lex)
    if question.type == "yesno":
        return _sms_yesno(reply, lex)
    if question.type == "choice":
        return _sms_choice(question, reply, lex, language)
    if question.type == "number":
        return _sms_number(question, reply, lex)
    if question.type == "text":
        return parse_text(question, text)
    return _refuse("unclear")


# --- keypad -----------------------------------------------------------------------------


def parse_keypad(question: Question, digits: str) -> Parsed:
    """Keypad digits as Twilio sends them (the finishing '#' already removed)."""
    digits = (digits or "").strip().rstrip("#")
    if digits == SKIP_KEY:
        return _skip(question)
    if not digits:
        return _refuse("empty")
    if not digits.isdigit() or not digits.isascii():
        return _refuse("unclear")
    if question.type == "yesno":
        return {"1": _answer("yes"), "2": _answer("no")}.get(digits, _refuse("unclear"))
    if question.type == "rating":
        lo, hi = question.scale
        return _number_answer(_to_int(digits), lo, hi)
    if question.type == "number":
        return _number_answer(_to_int(digits), question.min, question.max)
    if question.type == "choice":
        keys = {o.key for o in question.options}
        if not question.multiple:
            option = question.option_by_key(digits)
            return _answer(option.value) if option else _refuse("unclear")
        pressed = list(digits)
        if any(k not in keys for k in pressed) or len(set(pressed)) != len(pressed):
            return _refuse("unclear")
        return _answer(_values_for_keys(question, set(pressed)))
    return _refuse("unclear")


# --- web --------------------------------------------------------------------------------


def parse_web(question: Question, value: str | list[str] | None) -> Parsed:
    """A web form value: option values, integers and text exactly as the form posts them;
    an empty value is a skip (accepted only on an optional question)."""
    if value is None or value == "" or value == []:
        return _skip(question)
    if question.type == "choice" and question.multiple:
        values = [value] if isinstance(value, str) else list(value)
        known = {o.value for o in question.options}
        if any(not isinstance(v, str) or v not in known for v in values):
            return _refuse("unclear")
        if len(set(values)) != len(values):
            return _refuse("unclear")
        return _answer([o.value for o in question.options if o.value in values])
    if not isinstance(value, str):
        return _refuse("unclear")
    if question.type == "choice":
        option = question.option_by_value(value)
        return _answer(option.value) if option else _refuse("unclear")
    if question.type == "yesno":
        return _answer(value) if value in ("yes", "no") else _refuse("unclear")
    if question.type in ("rating", "number"):
        if re.fullmatch(r"-?[0-9]{1,9}", value.strip()) is None:
            return _refuse("unclear")
        lo, hi = question.scale if question.type == "rating" else (question.min, question.max)
        return _number_answer(int(value.strip()), lo, hi)
    if question.type == "text":
        return parse_text(question, value)
    return _refuse("unclear")
