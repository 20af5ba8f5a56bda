"""Row heights for wrapped text: spreadsheet programs do not auto-fit rows written by a library."""

from __future__ import annotations

import math
import unicodedata

LINE_POINTS = 16.0  # one line of 11 pt CJK text, with leading (LibreOffice renders ~15.5 pt)


def display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" and ord(c) > 0x2000 else 1 for c in text)


def line_count(text: str, width_chars: float) -> int:
    usable = max(4.0, width_chars * 0.92 - 1)
    return sum(max(1, math.ceil(display_width(line) / usable)) for line in str(text).split("\n"))


def row_height(texts_and_widths: list[tuple[str, float]], minimum: float = 20.0) -> float:
    """The height (points) that shows every (text, column width) pair of a row in full."""
    lines = max((line_count(t, w) for t, w in texts_and_widths if t), default=1)
    return max(minimum, round(lines * LINE_POINTS + 5, 1))
