"""Server-rendered SVG bar charts (no JavaScript, prints well)."""

from __future__ import annotations

import math
from html import escape

PALETTE = ["#2e7d32", "#1565c0", "#ef6c00", "#c62828"]  # the grades, best first


def grade_colors(grades: list[str]) -> dict[str, str]:
    """A colour per grade label (the template's bands, best first); grades past the palette take its last."""
    return {g: PALETTE[min(i, len(PALETTE) - 1)] for i, g in enumerate(grades)}


def bar_chart(bars: list[tuple[str, int]], title: str, width: int = 460, height: int = 240,
              colors: dict[str, str] | None = None) -> str:
    """A vertical bar chart of (label, count) with the count above each bar."""
    colors = colors or {}
    left, right, top, bottom = 36, 12, 34, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    step_value = max(1, math.ceil(max([n for _, n in bars] + [1]) / 4))  # whole-number ticks
    peak = step_value * 4
    step = plot_w / max(len(bars), 1)
    bar_w = step * 0.62
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(title)}" class="chart">',
             f'<text x="{width / 2}" y="20" text-anchor="middle" class="chart-title">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#888"/>']
    for i in range(5):
        value = step_value * i
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="chart-axis">{value:g}</text>')
    for i, (label, n) in enumerate(bars):
        h = plot_h * n / peak
        x = left + i * step + (step - bar_w) / 2
        y = top + plot_h - h
        fill = colors.get(label, "#5c6bc0")
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{fill}">'
                     f'<title>{escape(label)}：{n}</title></rect>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle" class="chart-value">{n}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
                     f'class="chart-axis">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
