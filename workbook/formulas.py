"""Every formula the workbook holds, rendered from the template.

The generator writes these; the verifier regenerates them to detect tampering.
All formulas refer to defined names only, never to cell addresses, so they do not
depend on layout and survive re-serialisation by Excel, WPS and LibreOffice.
"""

from __future__ import annotations

from functools import lru_cache

from .checks import PORTABLE_REVISION, guard, ref
from .numbers import excel_number
from .template import Indicator, Template


def score_formula(t: Template, ind: Indicator) -> str:
    """=ROUND(MAX(0,MIN(max, rule body)),2), guarded for blank (未填) and wrong-type (无效) inputs."""
    body = ind.rule.body(lambda key: ref(t, key))
    clamped = f"ROUND(MAX(0,MIN({excel_number(ind.max)},{body})),2)"
    return "=" + guard(t, ind.rule.referenced(), clamped)


def computed_formula(t: Template, key: str) -> str:
    c = t.computed[key]
    expr = f"SUM({','.join(c.plus)})"
    if c.minus:
        expr += f"-SUM({','.join(c.minus)})"
    if c.floor_zero:
        expr = f"MAX(0,{expr})"
    return f"=ROUND({expr},2)"


INCOMPLETE = "未完成"  # a subtotal, total or grade while a score it adds up shows 未填 or 无效


def _sum_scores(t: Template, ids: list[str]) -> str:
    names = ",".join("score_" + i for i in ids)
    total = f"ROUND(SUM({names}),2)"
    if t.formula_revision >= PORTABLE_REVISION:  # not a partial sum that looks like a (failing) result
        return f'=IF(COUNT({names})<{len(ids)},"{INCOMPLETE}",{total})'
    return "=" + total


def subtotal_formula(t: Template, level_or_group: str) -> str:
    return _sum_scores(t, [i.id for i in t.indicators if level_or_group in (i.level, i.group)])


def total_formula(t: Template) -> str:
    return _sum_scores(t, [i.id for i in t.indicators])


def grade_formula(t: Template) -> str:
    bands = list(t.grade_bands)
    expr = f'"{bands[-1][1]}"'
    for minimum, grade in reversed(bands[:-1]):
        expr = f'IF(total_score>={excel_number(minimum)},"{grade}",{expr})'
    if t.formula_revision >= PORTABLE_REVISION:
        expr = f'IF(ISNUMBER(total_score),{expr},"{INCOMPLETE}")'
    return "=" + expr


def shown_values(t: Template, report) -> dict[str, object]:
    """What every named formula cell shows, computed by the engine (the cached and the expected values)."""
    out: dict[str, object] = {f"score_{i.id}": i.display for i in report.indicators}
    out.update(report.computed)
    out.update({f"subtotal_{k}": v for k, v in report.subtotals.items()})
    out["total_score"], out["grade"] = report.total, report.grade
    if t.formula_revision >= PORTABLE_REVISION:
        open_ids = {i.id for i in report.indicators if i.status != "ok"}
        for ind in t.indicators:
            if ind.id in open_ids:
                out[f"subtotal_{ind.level}"] = out[f"subtotal_{ind.group}"] = INCOMPLETE
        if open_ids:
            out["total_score"] = out["grade"] = INCOMPLETE
    return out


@lru_cache(maxsize=8)
def named_formulas(t: Template) -> dict[str, str]:
    """Defined name -> formula for every named formula cell (scores, subtotals, total, grade, computed)."""
    out = {key: computed_formula(t, key) for key in t.computed}
    for ind in t.indicators:
        out[f"score_{ind.id}"] = score_formula(t, ind)
    for lv in t.levels:
        out[f"subtotal_{lv.id}"] = subtotal_formula(t, lv.id)
        for g in lv.groups:
            out[f"subtotal_{g.id}"] = subtotal_formula(t, g.id)
    out["total_score"] = total_formula(t)
    out["grade"] = grade_formula(t)
    return out
