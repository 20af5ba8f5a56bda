"""The scoring engine of row forms (附件3-1): raw inputs → Report.  Pure, no I/O.

The funds table scores its total row by the execution rate, each used indicator row by its nature
(workbook.rowrules), each level's 分值 must add up to the level's points, and the total may be
capped by the execution rate (a template option).  Findings carry the input key or row id they
belong to.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .form.rowform import RowForm
from .numbers import ZERO, q2
from .report import Finding, IndicatorResult, Report
from .rowchecks import audit
from .rowrules import (
    RowInput,
    blank,
    capped_total,
    funds_score,
    level_points_finding,
    score_row,
    text_too_long,
)

FUNDS_ID = "funds"


def _money(key: str, value: Any, label: str, findings: list[Finding]) -> Decimal | None:
    """A money cell: blank is 0; a non-number or a negative amount is invalid_input at that cell."""
    if blank(value):
        return ZERO
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        findings.append(Finding("error", "invalid_input", key, f"“{label}”应为金额，填的是“{value}”"))
        return None
    d = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if d < 0:
        findings.append(Finding("error", "invalid_input", key, f"“{label}”不能为负数"))
        return None
    return d


def funds_totals(form: RowForm, inputs: Mapping[str, Any], findings: list[Finding]) -> dict[str, Decimal | None]:
    """Each column's total over the funds rows (None when a cell of that column is invalid)."""
    f = form.funds
    out: dict[str, Decimal | None] = {}
    for col in f.columns:
        total: Decimal | None = ZERO
        for row in f.rows:
            key = f.key(row.key, col.key)
            v = _money(key, inputs.get(key), f"{row.label.removeprefix('其中：')}{col.label}", findings)
            total = None if v is None or total is None else total + v
        out[col.key] = total
    return out


def shown_sums(form: RowForm, inputs: Mapping[str, Any]) -> dict[str, Decimal]:
    """What the workbook's =SUM(...) of each funds column shows: numbers added (negatives too), text ignored."""
    out = {}
    for col in form.funds.columns:
        vals = [inputs.get(form.funds.key(r.key, col.key)) for r in form.funds.rows]
        out[f"funds_total_{col.key}"] = q2(sum((Decimal(str(v)) for v in vals
                                              if isinstance(v, int | float | Decimal) and not isinstance(v, bool)),
                                             ZERO))
    return out


def score_row_form(form: RowForm, inputs: Mapping[str, Any]) -> Report:
    """Score one return of a row form as form-3-1.md says."""
    findings: list[Finding] = []
    results: list[IndicatorResult] = []
    p = form.params
    f = form.funds
    totals = funds_totals(form, inputs, findings)
    budget, executed = totals[f.budget_column], totals[f.executed_column]
    computed: dict[str, Decimal] = shown_sums(form, inputs)
    rate = None
    if budget is None or executed is None:
        funds = IndicatorResult(FUNDS_ID, f.total.label, f.label, "", p.funds_points, ZERO, "资金数据无效", "invalid")
    else:
        out = funds_score(budget, executed, inputs.get(f.reason_key), p)
        rate = out.rate
        funds = IndicatorResult(FUNDS_ID, f.total.label, f.label, "", p.funds_points, out.score, out.basis,
                                "invalid" if out.status == "invalid" else "ok",
                                not_applicable=out.status == "not_applicable")
        findings += [Finding(rf.severity, rf.code, f.reason_key if rf.code == "note_missing" else FUNDS_ID,
                             rf.message) for rf in out.findings]
        if rate is not None:
            computed["funds_rate"] = rate
    results.append(funds)
    subtotals = {FUNDS_ID: funds.score}

    for lv in form.levels:
        outcomes = []
        for rid in lv.row_ids():
            row = RowInput(**{c: inputs.get(form.row_key(rid, c)) for c in ("name", "nature", "target", "unit",
                                                                            "actual", "points", "reason")})
            o = score_row(row, p)
            outcomes.append(o)
            if o.status == "unused":
                continue
            status = {"missing": "missing", "invalid": "invalid"}.get(o.status, "ok")
            results.append(IndicatorResult(rid, str(row.name).strip(), lv.name, "", o.points, o.score, o.basis,
                                           status, note=None if blank(row.reason) else str(row.reason)))
            findings += [Finding(rf.severity, rf.code, rid, f"{lv.name}“{str(row.name).strip()}”：{rf.message}")
                         for rf in o.findings]
        bad = level_points_finding(outcomes, lv.points, lv.name)
        if bad:
            findings.append(Finding(bad.severity, bad.code, lv.id, bad.message))
        subtotals[lv.id] = q2(sum((o.score for o in outcomes), ZERO))

    for field in form.texts:
        long = text_too_long(inputs.get(field.key), field.label, p)
        if long:
            findings.append(Finding(long.severity, long.code, field.key, long.message))

    uncapped = q2(sum(subtotals.values(), ZERO))
    total = q2(capped_total(uncapped, rate, p))
    computed["total_uncapped"] = uncapped
    report = Report(form.id, form.version, results, subtotals, total, form.grade_for(total), findings,
                    computed=computed)
    audit(form, report, inputs)
    return report
