"""SMS segment counts: GSM-7 with its extension table, UCS-2 for anything else."""

from __future__ import annotations

import pytest

from gateway.flows.segments import SegmentCount, sms_segments

TABLE: list[tuple[str, str, SegmentCount]] = [
    ("empty", "", SegmentCount("GSM-7", 0, 0)),
    ("one character", "a", SegmentCount("GSM-7", 1, 1)),
    ("160 GSM-7 characters fit one", "a" * 160, SegmentCount("GSM-7", 1, 160)),
    ("161 need two", "a" * 161, SegmentCount("GSM-7", 2, 161)),
    ("306 fit two parts of 153", "a" * 306, SegmentCount("GSM-7", 2, 306)),
    ("307 need three", "a" * 307, SegmentCount("GSM-7", 3, 307)),
    ("accented GSM-7 letters stay GSM-7", "éèùìòÑñÜüäöà£¥§¿¡", SegmentCount("GSM-7", 1, 17)),
    ("extension characters cost two septets", "€{}[]~|^\\", SegmentCount("GSM-7", 1, 18)),
    ("80 euro signs fill one message", "€" * 80, SegmentCount("GSM-7", 1, 160)),
    ("81 euro signs need two", "€" * 81, SegmentCount("GSM-7", 2, 162)),
    (
        "an escape pair is not split across parts",
        "a" * 152 + "€" + "a" * 10,
        SegmentCount("GSM-7", 2, 164),
    ),
    (
        "an escape pair at a part's end moves on",
        "a" * 152 + "€" + "a" * 152,
        SegmentCount("GSM-7", 3, 306),
    ),
    ("70 UCS-2 characters fit one", "í" * 70, SegmentCount("UCS-2", 1, 70)),
    ("71 need two", "í" * 71, SegmentCount("UCS-2", 2, 71)),
    ("134 fit two parts of 67", "í" * 134, SegmentCount("UCS-2", 2, 134)),
    ("one non-GSM letter switches the whole text", "a" * 69 + "ó", SegmentCount("UCS-2", 1, 70)),
    ("an emoji counts two code units", "👍", SegmentCount("UCS-2", 1, 2)),
    ("35 emoji fill one message", "👍" * 35, SegmentCount("UCS-2", 1, 70)),
    (
        "a surrogate pair is not split across parts",
        "a" * 66 + "👍" + "a" * 3,
        SegmentCount("UCS-2", 2, 71),
    ),
    ("curly quotes are not GSM-7", "don’t", SegmentCount("UCS-2", 1, 5)),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in TABLE], ids=[n for n, _, _ in TABLE]
)
def test_a_text_costs_the_segments_a_carrier_bills(text: str, expected: SegmentCount) -> None:
    assert sms_segments(text) == expected
