"""Verifying a row-form return (附件3-1): formulas against the plan, identity, recomputed scores."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import identity
from .form.rowplan import RowCtx
from .numbers import fmt_points, to_decimal
from .report import Finding
from .rowengine import score_row_form
from .rowread import row_plan


def _equal(cached: Any, expected: Any) -> bool:
    if isinstance(expected, Decimal):
        if isinstance(cached, bool) or not isinstance(cached, int | float):
            return False
        return abs(to_decimal(cached) - expected) < Decimal("0.005")
    return str("" if cached is None else cached) == str(expected)


def _show(v: Any) -> str:
    if isinstance(v, Decimal | int | float) and not isinstance(v, bool):
        return fmt_points(v)
    return f"“{v}”"


def verify_row_return(ret: Any) -> tuple[Any, list[Finding]]:
    """(report, findings) for a read row-form return."""
    form = ret.row_form
    findings: list[Finding] = []
    if ret.template_hash and ret.template_hash != form.content_hash:
        findings.append(Finding("error", "template_modified", "template_hash",
                                "工作簿记录的模板内容与本机模板不一致（模板改过但版本号未变）"))
    from .template_cells import audit_cache_findings, reader_findings, template_cell_findings
    from .verify import IGNORED_NAME_PREFIXES, integrity_findings

    exp, cells = expectations(form)
    findings += integrity_findings(ret, form, exp)
    findings += reader_findings(ret, set(exp[3]), IGNORED_NAME_PREFIXES)
    findings += template_cell_findings(ret, form, cells)
    for key, recorded in ret.meta.items():
        if key in ret.unit and recorded not in (None, "", "-"):
            actual = ret.inputs.get(key)
            if str(actual if actual is not None else "") != recorded:
                findings.append(Finding("error", "template_modified", key,
                                        f"{form.label(key)}被修改：下发时为“{recorded}”，文件中为“{actual or ''}”"))
    findings += identity.meta_findings(ret)
    inputs = dict(ret.inputs)
    for key, msg in ret.input_problems.items():
        inputs[key] = str(inputs.get(key))
        findings.append(Finding("error", "invalid_input", ret.input_cells.get(key, key), msg))
    report = score_row_form(form, inputs)
    findings += report.findings
    findings += audit_cache_findings(ret, form, RowCtx(raw=inputs, values=None, report=report, form=form), cells)
    if ret.uncached:
        findings.append(Finding("warning", "not_recalculated", "workbook",
                                f"{len(ret.uncached)} 个公式单元格没有计算结果，以复算结果为准"))
    expected = expected_shown(form, report)
    for name, want in expected.items():
        if name in ret.uncached or name not in ret.cached:
            continue
        if not _equal(ret.cached[name], want):
            findings.append(Finding("error", "score_mismatch", name,
                                    f"{name}：文件中为 {_show(ret.cached[name])}，复算为 {_show(want)}"))
    return report, findings


def expectations(form: Any) -> tuple[tuple, Any]:
    """(verify.plan_expectations, template_cells.Expected) of a row form's plan, built once per form."""
    got = form.__dict__.get("_expectations")
    if got is None:
        from .template_cells import Expected
        from .verify import plan_expectations

        plan = row_plan(form)
        got = form.__dict__["_expectations"] = (plan_expectations(plan), Expected(plan))
    return got


def expected_shown(form: Any, report: Any) -> dict[str, Any]:
    """What every named formula cell of a row form shows, by the engine."""
    from .rowchecks import shown_result

    shown = {r.id: r.display for r in report.indicators}
    total, grade = shown_result(form, report)
    out: dict[str, Any] = {"score_funds": shown.get("funds", ""), "total_score": total, "grade": grade,
                           "total_uncapped": report.computed["total_uncapped"],
                           "funds_rate": report.computed.get("funds_rate", "")}
    for col in form.funds.columns:
        out[f"funds_total_{col.key}"] = report.computed[f"funds_total_{col.key}"]
    for lv in form.levels:
        out[f"subtotal_{lv.id}"] = report.subtotals[lv.id]
        for rid in lv.row_ids():
            out[f"score_{rid}"] = shown.get(rid, "")
    return out
