"""How many SMS segments a text costs (GSM 03.38 / UCS-2), as carriers bill it.

A text made only of GSM-7 characters is sent 7 bits a character: 160 septets fit one
message, and a longer text is split into parts of 153 (the rest carries the
concatenation header). Characters of the GSM-7 extension table (``€ { } [ ] ~ \\ | ^``
and form feed) take two septets, an escape and the character, and the pair is never split
across parts. Any other character switches the whole text to UCS-2: 70 UTF-16 code units
in one message, 67 a part, and a surrogate pair (most emoji) is never split either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    segments: int  # messages the carrier delivers (0 for an empty text)
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2


def sms_segments(text: str) -> SegmentCount:
    """Count the segments ``text`` needs as one SMS."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        sizes = [2 if c in GSM7_EXTENSION else 1 for c in text]
        return SegmentCount("GSM-7", _segments(sizes, GSM7_SINGLE, GSM7_PART), sum(sizes))
    sizes = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return SegmentCount("UCS-2", _segments(sizes, UCS2_SINGLE, UCS2_PART), sum(sizes))


def _segments(sizes: list[int], single: int, part: int) -> int:
    """Pack characters of the given sizes into parts without splitting any of them."""
    total = sum(sizes)
    if total == 0:
        return 0
    if total <= single:
        return 1
    parts, used = 1, 0
    for size in sizes:
        if used + size > part:
            parts, used = parts + 1, 0
        used += size
    return parts
