"""One interface for reading a comment, and the offline default behind it.

:class:`CommentReader` is what the gateway asks of a reader: the themes, the sentiment and
the crisis reading of a comment whose personal data is already masked. :class:`RulesReader`
is the default: the taxonomy's terms, the sentiment lexicon and the crisis phrases, every
decision explained by the words that made it. An agency that has approved another reader
(a local model, a service it operates) names a factory in ``COMMENT_READER``
(``package.module:factory``); the factory gets the taxonomy and returns a reader.

Two rules hold whatever reader is configured (:func:`read_comment`): redaction is always
this package's own, done before any reader sees the text, and a comment the rules route as
crisis language is routed even if the configured reader says otherwise.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from gateway.comments.crisis import CrisisReading, read_crisis
from gateway.comments.redaction import Redaction, Redactor
from gateway.comments.sentiment import SentimentReading, read_sentiment
from gateway.comments.taxonomy import Taxonomy, ThemeMatch
from gateway.comments.text import fold

#: Masks the redaction wrote ("[PHONE]"): not words of the comment.
_MASKS = re.compile(r"\[[A-Z][A-Z0-9_]*\]")
#: ``COMMENT_READER``'s value for the built-in rules.
RULES = "rules"


@dataclass(frozen=True, slots=True)
class Classification:
    themes: tuple[ThemeMatch, ...]
    sentiment: SentimentReading
    crisis: CrisisReading


@runtime_checkable
class CommentReader(Protocol):
    #: Stored with each reading, so staff know which reader decided.
    name: str

    def classify(self, text: str, language: str) -> Classification:
        """Themes, sentiment and crisis reading of ``text`` (already redacted), written in
        ``language`` (``en``, ``es``, ...)."""
        ...


class RulesReader:
    """Taxonomy terms, the sentiment lexicon and the crisis phrases; no network, no model."""

    name = RULES

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    def classify(self, text: str, language: str) -> Classification:
        folded = fold(_MASKS.sub(" ", text))
        crisis = read_crisis(folded)
        sentiment = read_sentiment(folded)
        if crisis.route and sentiment.label != "negative":
            # Crisis language is never a neutral or happy comment, whatever words surround it.
            sentiment = SentimentReading(
                "negative",
                min(sentiment.score, -1.0),
                (*sentiment.evidence, ("crisis language", -1.0)),
            )
        return Classification(self.taxonomy.match(folded), sentiment, crisis)


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything the gateway stores about one comment."""

    redaction: Redaction
    themes: tuple[ThemeMatch, ...]
    sentiment: SentimentReading
    crisis: CrisisReading
    reader: str

    @property
    def theme_ids(self) -> tuple[str, ...]:
        return tuple(match.theme for match in self.themes)


def read_comment(text: str, language: str, redactor: Redactor, reader: CommentReader) -> Reading:
    """Redact ``text``, then let ``reader`` classify the redacted text."""
    redaction = redactor.redact(text)
    found = reader.classify(redaction.text, language)
    crisis = found.crisis
    if not isinstance(reader, RulesReader) and not crisis.route:
        rules = read_crisis(fold(redaction.text))
        if rules.route:
            crisis = rules
    return Reading(redaction, found.themes, found.sentiment, crisis, reader.name)


class ReaderConfigError(ValueError):
    """``COMMENT_READER`` names something that is not a reader factory."""


def build_reader(spec: str, taxonomy: Taxonomy) -> CommentReader:
    """The reader ``COMMENT_READER`` names: ``rules``, or ``package.module:factory``."""
    if not spec or spec == RULES:
        return RulesReader(taxonomy)
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ReaderConfigError(
            f"COMMENT_READER must be 'rules' or 'package.module:factory', not {spec!r}"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ReaderConfigError(f"COMMENT_READER: cannot import {module_name!r}: {exc}") from None
    factory: Callable[[Taxonomy], object] | None = getattr(module, attribute, None)
    if not callable(factory):
        raise ReaderConfigError(f"COMMENT_READER: {module_name} has no factory {attribute!r}")
    reader = factory(taxonomy)
    if not isinstance(reader, CommentReader):
        raise ReaderConfigError(
            f"COMMENT_READER: {spec} returned {type(reader).__name__}, which has no "
            "'name' and 'classify(text, language)'"
        )
    return reader
