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


# ---------------------------------------------------------------------------
# A4 page geometry: column widths must fit the printable width by construction (Excel, WPS and
# LibreOffice clip or scale differently; a sheet that fits at 100 % prints the same everywhere).
# ---------------------------------------------------------------------------

MARGIN_SIDE_IN, MARGIN_TOP_IN = 0.5, 0.6
A4_PT = (595.3, 841.9)  # portrait width, height in points
SAFETY = 0.95  # font metrics differ between programs


def column_pixels(width_chars: float) -> int:
    """Pixels of a column `width_chars` wide (Excel's rule for the default 11 pt font: 7 px a character + 5)."""
    return int(width_chars * 7 + 0.5) + 5


def printable_pixels(landscape: bool) -> float:
    """The printable page width in pixels (96 dpi), less a safety margin."""
    width_pt = (A4_PT[1] if landscape else A4_PT[0]) - 2 * 72 * MARGIN_SIDE_IN
    return width_pt / 0.75 * SAFETY


def printable_height(landscape: bool) -> float:
    """Points of rows that fit on one page (header and footer sit in the margins; 10 % kept spare)."""
    height_pt = (A4_PT[0] if landscape else A4_PT[1]) - 2 * 72 * MARGIN_TOP_IN
    return height_pt * 0.9


def sheet_pixels(widths: dict[int, float]) -> int:
    return sum(column_pixels(w) for w in widths.values())


def page_breaks(heights: list[float], blocks: list[tuple[int, int]], first_page: float, page: float) -> list[int]:
    """Rows before which to break so that no block (first row, last row) is split across pages.

    `heights[r]` is row r's height; `first_page` and `page` are the usable heights of the first
    and following pages (the latter less any repeated header rows).
    """
    breaks: list[int] = []
    room = first_page
    row = 0
    for start, end in blocks:
        while row < start:  # rows outside blocks flow freely
            if heights[row] > room and room < page:
                breaks.append(row)
                room = page
            room -= heights[row]
            row += 1
        need = sum(heights[start:end + 1])
        if need > room and need <= page and start > 0:
            breaks.append(start)
            room = page
        room -= need
        row = end + 1
    if len(blocks) > 1 and breaks and breaks[-1] == blocks[-1][0]:
        # the last block would stand alone under the repeated header: take the block before it along
        prev_start, prev_end = blocks[-2]
        if sum(heights[prev_start:blocks[-1][1] + 1]) <= page and prev_start not in breaks:
            breaks[-1] = prev_start
    return breaks
