"""Sentiment in English and Spanish, with negation and the words that decided."""

from __future__ import annotations

import pytest

from gateway.comments.sentiment import read_sentiment
from gateway.comments.text import fold


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Quick and friendly, thank you", "positive"),
        ("Rápido y muy amables", "positive"),
        ("The clerk was not helpful at all", "negative"),
        ("no fue nada fácil", "negative"),
        ("No complaints", "positive"),
        ("sin problemas", "positive"),
        ("The staff was not rude at all this time", "positive"),
        ("I came to update my address", "neutral"),
        ("Esperé 3 horas, pésimo", "negative"),
        ("The wait was long but the staff was wonderful", "positive"),
    ],
)
def test_a_comment_gets_its_sentiment(text: str, label: str) -> None:
    assert read_sentiment(fold(text)).label == label


def test_the_reading_shows_the_words_that_decided() -> None:
    reading = read_sentiment(fold("The lady was not helpful"))
    assert reading.evidence == (("not helpful", -1.0),)
