"""Verify a Return: recompute every score independently, compare formulas and cached values, audit.

Never trusts cached values or sheet protection: the engine recomputes from the raw
inputs, every formula cell is compared (normalised) with what the generator writes,
and sheets, names and unlocked cells are compared with the template's plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from . import identity
from .engine import score_values
from .form.layout import Ctx, WorkbookPlan, build_plan
from .formulas import named_formulas, shown_values
from .normalize import same_formula
from .numbers import fmt_points, to_decimal
from .read import Return
from .report import Finding, FindingCounts, Report, indicator_dict, number, sort_findings
from .template import Template
from .template_cells import audit_cache_findings, input_problems, reader_findings, template_cell_findings
from .values import Values
from .xlsx import cell_ref, split_ref

IGNORED_NAME_PREFIXES = ("_xlnm", "_xlfn.", "_xlpm.", "__", "_FilterDatabase",  # written by Excel itself
                         "Print_Titles", "Print_Area")  # print settings as Gnumeric names them


@dataclass
class Verification(FindingCounts):
    """The verdict on one file."""

    ret: Return
    report: Report | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return self.ret.rejected is not None

    @property
    def cached_total(self) -> Any:
        return self.ret.cached.get("total_score")

    def to_dict(self) -> dict[str, Any]:
        """The read/verify JSON contract."""
        r, rep = self.ret, self.report
        out: dict[str, Any] = {
            "file": r.file, "sha256": r.sha256,
            "template": {"id": r.template_id, "version": r.template_version} if r.template_id else None,
            "return_id": r.return_id, "unit": r.unit, "inputs": r.inputs,
            "notes": r.notes, "explanations": r.explanations, "tables": r.tables,
            "indicators": [], "subtotals": {}, "total": None, "cached_total": number(self.cached_total),
            "grade": None, "cached_grade": r.cached.get("grade"),
            "errors": self.count("error"), "warnings": self.count("warning"),
            "findings": [f.to_dict() for f in sort_findings(self.findings)],
        }
        if rep is not None:
            out["indicators"] = [{**indicator_dict(i), "cached_score": number(r.cached.get(f"score_{i.id}"))}
                                 for i in rep.indicators]
            out["subtotals"] = {k: number(v) for k, v in rep.subtotals.items()}
            out["computed"] = {k: number(v) for k, v in rep.computed.items()}
            out["total"], out["grade"] = number(rep.total), rep.grade
        return out


@lru_cache(maxsize=8)
def _plan(t: Template) -> WorkbookPlan:
    return build_plan(t)


@lru_cache(maxsize=8)
def _expected(t: Template) -> tuple[dict[tuple[str, str], str], set[tuple[str, str]], set[str], dict[str, str]]:
    return plan_expectations(_plan(t))


def plan_expectations(plan: WorkbookPlan) -> tuple[dict[tuple[str, str], str], set[tuple[str, str]], set[str],
                                                   dict[str, str]]:
    """(formula cells, input cells, sheet names, defined names) a workbook of `plan` must have."""
    formulas = {(s, cell_ref(c.row, c.col)): c.value for s, c in plan.formula_cells()}
    inputs = {(s, cell_ref(c.row, c.col)) for s, c in plan.input_cells()}
    sheets = {s.name for s in plan.sheets}
    from .form.refs import absolute

    names = {n: absolute(s, r, c)[1:] for n, (s, r, c) in plan.names.items()}
    names.update({n: absolute(s, r1, c1, r2, c2)[1:] for n, (s, r1, c1, r2, c2) in plan.ranges.items()})
    return formulas, inputs, sheets, names


def _target_same(a: str, b: str) -> bool:
    return split_ref(a) == split_ref(b)


def brief(formula: str, limit: int = 80) -> str:
    """A formula short enough for a finding's message (the cell is named; the workbook has it whole)."""
    return formula if len(formula) <= limit else formula[: limit - 1] + "…"


def integrity_findings(ret: Return, t: Template, expected: tuple | None = None) -> list[Finding]:
    """Sheets, names, formulas and unlocked cells against the template's plan (or `expected`, a row form's)."""
    expected_formulas, input_cells, sheets, names = expected or _expected(t)
    out: list[Finding] = []
    present = {name for name, _ in ret.sheets}
    for s in sorted(present - sheets):
        out.append(Finding("error", "template_modified", s, f"多出了工作表“{s}”（模板中没有）"))
    for s in sorted(sheets - present):
        out.append(Finding("error", "template_modified", s, f"缺少工作表“{s}”（被删除或改名）"))
    for name, target in names.items():
        got = ret.names.get(name)
        if got is None:
            out.append(Finding("error", "template_modified", name, f"缺少名称 {name}"))
        elif not _target_same(got, target):
            out.append(Finding("error", "template_modified", name, f"名称 {name} 指向 {got}，应为 {target}"))
    for name in sorted(set(ret.names) - set(names)):
        if not name.startswith(IGNORED_NAME_PREFIXES):
            out.append(Finding("error", "template_modified", name, f"多出了名称 {name}"))
    for (sheet, ref), formula in expected_formulas.items():
        if sheet not in present:
            continue
        got = ret.formulas.get((sheet, ref))
        if got is None:
            out.append(Finding("error", "formula_tampered", f"{sheet}!{ref}",
                               f"「{sheet}」{ref} 的公式被删除或替换为常量（应为 {brief(formula)}）"))
        elif not same_formula(got, formula):
            out.append(Finding("error", "formula_tampered", f"{sheet}!{ref}",
                               f"「{sheet}」{ref} 的公式被修改：{brief(got)}（应为 {brief(formula)}）"))
    for (sheet, ref), formula in ret.formulas.items():
        if (sheet, ref) not in expected_formulas and (sheet, ref) not in input_cells and sheet in sheets:
            out.append(Finding("error", "template_modified", f"{sheet}!{ref}",
                               f"「{sheet}」{ref} 原本不是公式，现在是 {formula}"))
    for sheet, ref in sorted(ret.unlocked - input_cells):
        if sheet in sheets:
            out.append(Finding("error", "template_modified", f"{sheet}!{ref}",
                               f"「{sheet}」{ref} 被解除锁定（只有填报单元格可以编辑）"))
    return out


IDENTITY = {"unit_name": "单位名称", "budget_code": "预算编码", "parent_dept": "主管部门", "year": "评价年度"}


def identity_findings(ret: Return) -> list[Finding]:
    """The locked identity cells against the identity recorded when the workbook was generated."""
    out = []
    for key, label in IDENTITY.items():
        recorded = ret.meta.get(key)
        if recorded in (None, "", "-"):
            continue
        actual = ret.inputs.get(key)
        # mutmut: what stands for a cleared cell here cannot matter, as a blank record was skipped above
        if str(actual if actual is not None else "") != recorded:  # pragma: no mutate
            out.append(Finding("error", "template_modified", key,
                               f"{label}被修改：下发时为“{recorded}”，文件中为“{actual if actual is not None else ''}”"))
    return out


def _cached_equal(cached: Any, expected: Any) -> bool:
    if isinstance(expected, Decimal):
        if isinstance(cached, bool) or not isinstance(cached, (int, float)):
            return False
        return abs(to_decimal(cached) - expected) < Decimal("0.005")
    return str(cached) == str(expected)


def verify(ret: Return) -> Verification:
    """Recompute and audit one Return."""
    if ret.rejected is not None:
        return Verification(ret, None, [Finding("error", "file_rejected", ret.file, ret.rejected)])
    t = ret.template
    if t is None and ret.row_form is not None:
        from .rowverify import verify_row_return

        report, found = verify_row_return(ret)
        return Verification(ret, report, found)
    if t is None:
        what = (f"模板 {ret.template_id} 版本 {ret.template_version}" if ret.template_id
                else "没有 jixiao 模板标识")
        return Verification(ret, None, [Finding("error", "template_unknown", ret.file,
                                                f"不是本系统能识别的自评表：{what}")])
    findings = integrity_findings(ret, t)
    if ret.template_hash and ret.template_hash != t.content_hash:
        findings.append(Finding("error", "template_modified", "template_hash",
                                "工作簿记录的模板内容与本机模板不一致（模板改过但版本号未变，请用对应版本的模板核验）"))
    findings.extend(identity_findings(ret))
    findings = identity.legacy_filter(findings, ret) + identity.meta_findings(ret)
    findings.extend(reader_findings(ret, set(_expected(t)[3]), IGNORED_NAME_PREFIXES))
    findings.extend(template_cell_findings(ret, t))
    inputs = dict(ret.inputs)
    problems = input_problems(ret, t)
    for key, (_, unusable) in problems.items():
        if unusable:
            # mutmut: an unusable value is already a text (where a number belongs), so str() of it, or of None, is alike
            inputs[key] = str(inputs[key])  # pragma: no mutate - never computed with: the engine sees an invalid value
    inputs.update({f"note_{k}": v for k, v in ret.notes.items()})
    values = Values(t, inputs)
    report = score_values(values, ret.explanations)
    findings.extend(f for f in report.findings if not (f.code == "invalid_input" and f.where in problems))
    findings.extend(Finding("error", "invalid_input", ret.input_cells.get(k, k), msg) for k, (msg, _) in problems.items())
    # mutmut: no 审核 cell of the template reads the raw inputs (they show values and the report), so raw=None is alike
    findings.extend(audit_cache_findings(ret, t, Ctx(raw=inputs, values=values, report=report)))  # pragma: no mutate
    expected = shown_values(t, report)
    if ret.uncached:
        findings.append(Finding("warning", "not_recalculated", "workbook",
                                f"{len(ret.uncached)} 个公式单元格没有计算结果（文件未在电子表格程序中打开保存过），以复算结果为准"))
    for name in named_formulas(t):
        if name in ret.uncached or name not in ret.cached:
            continue
        cached, want = ret.cached[name], expected[name]
        if not _cached_equal(cached, want):
            findings.append(Finding("error", "score_mismatch", name,
                                    f"{_describe(t, name)}：文件中为 {_show(cached)}，复算为 {_show(want)}"))
    return Verification(ret, report, findings)


def _describe(t: Template, name: str) -> str:
    if name.startswith("score_"):
        return f"“{t.indicator(name[6:]).name}”得分"
    if name.startswith("subtotal_"):
        sid = name[9:]
        try:
            return f"“{t.level(sid).name}”小计"
        except StopIteration:
            return f"“{t.group(sid).name}”小计"
    return {"total_score": "总分", "grade": "评价等次"}.get(name, f"“{t.label(name)}”")


def _show(v: Any) -> str:
    if isinstance(v, (Decimal, int, float)) and not isinstance(v, bool):
        return fmt_points(v)
    return f"“{v}”"
