"""The Python scoring engine: raw inputs → Report (scores, subtotals, total, grade, findings).  Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .checks import (
    PASS,
    SKIP,
    NoteCheck,
    RequiredCheck,
    SpecCheck,
    TextCheck,
    ValidityCheck,
    ZeroCheck,
    build_checks,
)
from .numbers import ZERO, fmt_points, q2
from .report import Finding, IndicatorResult, Report
from .template import Template, default_template
from .values import Values, is_blank


def score(inputs: Mapping[str, Any], template: Template | None = None,
          explanations: Mapping[str, str] | None = None) -> Report:
    """Score raw inputs ({key: value}, None = blank) exactly as rules.md says.

    `inputs` may also hold `note_<indicator id>` texts; `explanations` maps a 审核
    row id to the unit's 审核说明, which marks that row's warnings as explained.
    """
    t = template or default_template()
    return score_values(Values(t, inputs), explanations)


def score_values(v: Values, explanations: Mapping[str, str] | None = None) -> Report:
    """score() for inputs already normalised into Values (notes are read from v.raw)."""
    t = v.t
    inputs = v.raw
    findings: list[Finding] = []
    audit: dict[str, str] = {}
    required = t.required_inputs()

    missing = [k for k in required if k in v.blank]
    for k in missing:
        findings.append(Finding("error", "missing_input", k, f"必填项“{t.label(k)}”未填", check="required_inputs"))
    for k, why in v.invalid.items():
        findings.append(Finding("error", "invalid_input", k, f"“{t.label(k)}”{why}", check="valid_inputs"))

    results: list[IndicatorResult] = []
    zero_fail: dict[str, bool] = {}
    for ind in t.indicators:
        level, group = t.level(ind.level), t.group(ind.group)
        note = inputs.get(f"note_{ind.id}")
        note = None if is_blank(note) else str(note)
        req = ind.rule.required_inputs(t)
        blank = [k for k in req if k in v.blank]
        bad = [k for k in req if k in v.unusable]
        if blank or bad:
            status = "missing" if blank else "invalid"
            names = "、".join(t.label(k) for k in (blank or bad))
            basis = f"{'未填' if blank else '数据无效'}：{names}"
            results.append(IndicatorResult(ind.id, ind.name, level.name, group.name, ind.max, ZERO, basis, status,
                                           note=note))
            continue
        out = ind.rule.evaluate(v, t.label)
        value = q2(max(ZERO, min(ind.max, out.score)))
        results.append(IndicatorResult(ind.id, ind.name, level.name, group.name, ind.max, value, out.basis,
                                       not_applicable=out.not_applicable, note=note))
        for rf in out.findings:
            findings.append(Finding(rf.severity, rf.code, ind.id, rf.message, check=f"zero_{ind.id}"))
        zero_fail[ind.id] = bool(out.findings)

    subtotals = {}
    for lv in t.levels:
        subtotals[lv.id] = q2(sum((r.score for r, i in zip(results, t.indicators, strict=True) if i.level == lv.id), ZERO))
        for g in lv.groups:
            subtotals[g.id] = q2(sum((r.score for r, i in zip(results, t.indicators, strict=True) if i.group == g.id), ZERO))
    total = q2(sum((r.score for r in results), ZERO))
    grade = t.grade_for(total)

    for check in build_checks(t):
        if isinstance(check, RequiredCheck):
            audit[check.id] = check.fail_word() if missing else PASS
        elif isinstance(check, ValidityCheck):
            audit[check.id] = check.fail_word() if v.invalid else PASS
        elif isinstance(check, ZeroCheck):
            ind_id = check.ind.id
            audit[check.id] = SKIP if ind_id not in zero_fail else (check.fail_word() if zero_fail[ind_id] else PASS)
        elif isinstance(check, SpecCheck):
            res = check.evaluate(v)
            audit[check.id] = res.status
            # A check resting on an invalid value (a negative 项目支出…) adds no finding of its own:
            # the invalid_input error says what to fix, and a spurious exceeds_base would mislead.
            # The audit row keeps the workbook formula's status, so the two engines still agree.
            if res.failed and not any(k in v.invalid for key in check.keys() for k in t.expand(key)):
                findings.append(Finding(check.severity, check.code, check.id, f"{check.label}：{res.message}",
                                        check=check.id))
        elif isinstance(check, NoteCheck):
            lacking = [r for r in results if r.status == "ok" and r.score < r.max and not r.note]
            audit[check.id] = check.fail_word() if lacking else PASS
            for r in lacking:
                findings.append(Finding("warning", "note_missing", r.id,
                                        f"“{r.name}”扣 {fmt_points(r.max - r.score)} 分，但未填写扣分原因", check=check.id))
        elif isinstance(check, TextCheck):
            bad_text = check.mismatches(v)
            audit[check.id] = check.fail_word() if bad_text else PASS
            for field, snippet, found in bad_text:
                findings.append(Finding("warning", "text_mismatch", field,
                                        f"“{t.label(field)}”中写有“{snippet}”，与表中“{t.label(check.spec.key)}” "
                                        f"{fmt_points(v.num(check.spec.key))} 不符（{fmt_points(found)}）",
                                        check=check.id))

    for f in findings:
        text = (explanations or {}).get(f.check or "")
        if f.severity == "warning" and not is_blank(text):
            f.explained, f.explanation = True, str(text)

    return Report(t.id, t.version, results, subtotals, total, grade, findings,
                  computed=dict(v.computed), audit=audit)

