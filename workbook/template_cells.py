"""Every cell that is the template's: constant cells, output formats and visibility, sheet states,
protection, the 审核 sheet's shown results, and what the reader found ambiguous or unreadable.

Each function compares what the reader collected in its single pass over the file with the
regenerated plan (cached per template), so verification stays a few dictionary comparisons.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .form.layout import META, Ctx, WorkbookPlan, build_plan, validation_for
from .form.styles import STYLES
from .numbers import to_decimal
from .read import Return
from .report import Finding
from .template import Input, Template
from .xlsx import cell_ref

HUGE = 1e15  # no amount, count or score of a return comes near it; never computed with
MAX_LISTED = 12  # cells named one by one before a summary line
TEMPLATE_PROPS = ("jixiao_template_hash",)  # id and version: identity_missing (workbook.identity)


class Expected:
    """What the plan says every template cell holds."""

    def __init__(self, plan: WorkbookPlan):
        self.order = [s.name for s in plan.sheets]
        self.protected = {s.name for s in plan.sheets if s.protect}
        self.constants: dict[str, dict[str, Any]] = {}
        self.variable: dict[str, set[str]] = {}  # input and formula cells: not constants
        self.formats: dict[tuple[str, str], str] = {}
        self.hidden: set[tuple[str, str]] = set()
        self.audit_cells: dict[str, Any] = {}  # 审核 ref -> Cached (what the sheet shows)
        self.audit = plan.ranges["audit_status"][0]  # the 审核 sheet: where the check statuses are
        for s in plan.sheets:
            consts: dict[str, Any] = {}
            for m in s.merges:
                if m.text not in (None, ""):
                    consts[cell_ref(m.r1, m.c1)] = m.text
            for c in s.cells:
                ref = cell_ref(c.row, c.col)
                if c.kind == "label":
                    if c.value not in (None, ""):
                        consts[ref] = float(c.value) if isinstance(c.value, (int, float)) else c.value
                    else:
                        consts.pop(ref, None)
                elif c.kind == "input":
                    self.variable.setdefault(s.name, set()).add(ref)
                else:
                    self.variable.setdefault(s.name, set()).add(ref)  # a constant there is formula_tampered
                    self.formats[(s.name, ref)] = STYLES[c.style].get("num_format", "General")
                    if c.col in s.hidden_cols:
                        self.hidden.add((s.name, ref))  # helper cells the template itself hides
                    if s.name == self.audit and c.cached is not None and c.col not in s.hidden_cols:
                        self.audit_cells[ref] = c.cached  # every shown result: status, message, counts
            self.constants[s.name] = consts


@lru_cache(maxsize=8)
def expected_cells(t: Template) -> Expected:
    return Expected(build_plan(t))


# LibreOffice gives a General formula cell the number format of the cell it refers to
_INHERITED = {"general"} | {str(p["num_format"]).lower() for p in STYLES.values() if "num_format" in p}


def _same_format(got: str, want: str) -> bool:
    if got.lower() == want.lower():
        return True
    return want.lower() == "general" and got.lower() in _INHERITED


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return f"“{str(value)[:40]}”"
    return str(int(value)) if float(value).is_integer() else str(value)


def reader_findings(ret: Return, plan_names: set[str], ignored: tuple[str, ...] = ("_xlnm",)) -> list[Finding]:
    """What the reader found readable two ways, and sheet-local names that could shadow the template's
    (names starting with `ignored`, such as print titles, are the programs' own unless they shadow)."""
    out = [Finding("error", "template_modified", where, message) for where, message in ret.anomalies]
    folded = {n.lower() for n in plan_names}
    for name, sheet, text in ret.local_names:
        if name.startswith(ignored) and name.lower() not in folded:
            continue
        why = "遮蔽了同名的模板名称" if name.lower() in folded else "模板中没有"
        out.append(Finding("error", "template_modified", name,
                           f"工作表“{sheet}”内定义了局部名称 {name}（指向 {text}），{why}"))
    return out


def template_cell_findings(ret: Return, t: Template, exp: Expected | None = None) -> list[Finding]:
    """Constant cells, output formats and visibility, sheet order and states, protection, template properties
    (`exp`: a row form's expectations instead of the template's)."""
    exp = exp or expected_cells(t)
    out: list[Finding] = []
    changed: list[Finding] = []
    for sheet, want in exp.constants.items():
        got = ret.constants.get(sheet)
        if got is None:
            continue  # a missing sheet is reported by integrity_findings
        variable = exp.variable.get(sheet, frozenset())
        if want.items() <= got.items() and len(got) - len(want) == len(variable & got.keys()):
            continue  # every template constant as planned, nothing else outside input and formula cells
        got = {r: v for r, v in got.items() if r not in variable}
        for ref in sorted(set(got) | set(want)):
            a, b = got.get(ref), want.get(ref)
            if a == b:
                continue
            if b is None:
                msg = f"「{sheet}」{ref} 原本为空，现在是 {_fmt(a)}"
            elif a is None:
                msg = f"「{sheet}」{ref} 的模板内容 {_fmt(b)} 被删除"
            else:
                msg = f"「{sheet}」{ref} 的模板内容被改为 {_fmt(a)}（应为 {_fmt(b)}）"
            changed.append(Finding("error", "template_modified", f"{sheet}!{ref}", msg))
    out.extend(changed[:MAX_LISTED])
    if len(changed) > MAX_LISTED:
        out.append(Finding("error", "template_modified", "workbook", f"另有 {len(changed) - MAX_LISTED} 个模板单元格被修改"))
    for key, want in exp.formats.items():
        got = ret.formats.get(key)
        if got is not None and got != want and not _same_format(got, want):
            out.append(Finding("error", "template_modified", f"{key[0]}!{key[1]}",
                               f"「{key[0]}」{key[1]} 的数字格式被改为 {got}（应为 {want}），显示的不再是计算结果"))
    for key in sorted(ret.invisible):
        if key in exp.formats and key not in exp.hidden:
            out.append(Finding("error", "template_modified", f"{key[0]}!{key[1]}",
                               f"「{key[0]}」{key[1]} 被隐藏（行或列隐藏，或字体颜色与底色相同）"))
    out.extend(_sheet_findings(ret, exp))
    for prop in TEMPLATE_PROPS:
        if prop not in ret.props_present:
            out.append(Finding("error", "template_modified", prop, f"缺少模板属性 {prop}（文档属性被删除）"))
    return out


def _sheet_findings(ret: Return, exp: Expected) -> list[Finding]:
    out = []
    for name, state in ret.sheets:
        if name == META:
            # Its contents are checked by the identity rules (properties, MAC), so its visibility alone
            # changes nothing the bureau relies on: LibreOffice re-saves make it hidden, Gnumeric visible.
            if state == "hidden":
                out.append(Finding("warning", "metadata_unhidden", name,
                                   "元数据工作表由“深度隐藏”变为“隐藏”（LibreOffice 另存会这样），内容未变"))
            elif state == "visible":
                out.append(Finding("warning", "metadata_unhidden", name,
                                   "元数据工作表被取消隐藏（Gnumeric 另存会这样），内容未变"))
            elif state != "veryHidden":
                out.append(Finding("error", "template_modified", name, f"元数据工作表的状态异常（{state}）"))
        elif name in exp.order and state != "visible":
            out.append(Finding("error", "template_modified", name, f"工作表“{name}”被隐藏（{state}）"))
    present = [name for name, _ in ret.sheets if name in exp.order]
    if present != [n for n in exp.order if n in present]:
        out.append(Finding("error", "template_modified", "workbook", "工作表的顺序被改变"))
    unprotected = [name for name, _ in ret.sheets if name in exp.protected and ret.protected.get(name) is False]
    if unprotected:
        out.append(Finding("warning", "protection_removed", "workbook",
                           f"工作表保护已取消：{'、'.join(unprotected)}（保护只防误操作，数据以复算为准）"))
    return out


def audit_cache_findings(ret: Return, t: Template, ctx: Ctx, exp: Expected | None = None) -> list[Finding]:
    """The 审核 sheet's shown results (what a printout shows) against the recomputed checks."""
    out = []
    exp = exp or expected_cells(t)
    for ref, cached in exp.audit_cells.items():
        got = ret.shown.get((exp.audit, ref))
        if got is None:
            continue  # never calculated: not_recalculated covers it
        want = cached(ctx)
        if isinstance(want, (int, float, Decimal)) and not isinstance(want, bool):
            ok = (isinstance(got, (int, float)) and not isinstance(got, bool)
                  and abs(to_decimal(got) - to_decimal(want)) < Decimal("0.005"))
        else:
            ok = str(got) == str(want)
        if not ok:
            out.append(Finding("error", "score_mismatch", f"{exp.audit}!{ref}",
                               f"「{exp.audit}」{ref} 显示 {_fmt(got)}，复算为 {_fmt(want)}"))
    return out


@lru_cache(maxsize=8)
def _all_limits(t: Template) -> dict[str, tuple[Any, Any] | None]:
    return {key: _limits(spec) for key, spec in t.inputs.items()}


def _limits(spec: Input) -> tuple[Any, Any] | None:
    v = validation_for(spec)
    if v.get("validate") in ("decimal", "integer", "date"):
        return v.get("minimum"), v.get("maximum")
    if v.get("validate") == "length":
        return None, v.get("value")
    return None


def _where(ret: Return, key: str) -> str:
    """「sheet」A1 of an input."""
    return "「" + ret.input_cells.get(key, key).replace("!", "」", 1)


def input_problems(ret: Return, t: Template) -> dict[str, tuple[str, bool]]:
    """Input key -> (message naming the cell, whether the value is unusable): formulas, unreadable
    values, and values beyond the workbook's own validation limits (even when a unit removed the
    validation) that the template's own range check does not already report."""
    out = {key: (msg, isinstance(ret.inputs.get(key), str) and t.inputs[key].type != "text")
           for key, msg in ret.input_problems.items()}
    all_limits = _all_limits(t)
    for key, value in ret.inputs.items():
        spec = t.inputs.get(key)
        if key in out or spec is None or value is None:
            continue
        limits = all_limits[key]
        if limits is None:
            continue
        lo, hi = limits
        if spec.type == "text":
            if isinstance(value, str) and hi is not None and len(value) > hi:
                out[key] = (f"{_where(ret, key)}（{spec.label}）文字长度 {len(value)} 超过 {hi} 字", False)
        elif spec.type == "date":
            try:
                day = dt.date.fromisoformat(str(value).strip()[:10])
            except ValueError:
                continue
            if (lo and day < lo) or (hi and day > hi):
                out[key] = (f"{_where(ret, key)}（{spec.label}）日期 {day.isoformat()} 超出 {lo}～{hi}", True)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            unreported = ((spec.min is None and lo is not None and value < lo)
                          or (spec.max is None and hi is not None and value > hi))
            if unreported or abs(value) >= HUGE:
                out[key] = (f"{_where(ret, key)}（{spec.label}）的值 {value:g} 超出工作簿数据校验的范围 {lo:g}～{hi:g}", True)
    return out
