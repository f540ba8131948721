"""A flow's start keywords can never be a word the SMS channel answers as a keyword."""

from __future__ import annotations

from channels.sms import (
    HELP_KEYWORDS,
    START_KEYWORDS,
    START_KEYWORDS_WHEN_OPTED_OUT,
    STOP_KEYWORDS,
)
from gateway.flows.reader import RESERVED_KEYWORDS


def test_every_sms_keyword_is_reserved_for_start_keywords() -> None:
    answered = {
        *STOP_KEYWORDS,
        *START_KEYWORDS,
        *START_KEYWORDS_WHEN_OPTED_OUT,
        *HELP_KEYWORDS,
    }
    assert answered - RESERVED_KEYWORDS == set()
