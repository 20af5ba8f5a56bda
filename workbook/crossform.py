"""Cross-form checks in the bureau: a unit's 附件3-1 projects against its 附件3-2 (form-3-1.md, last section).

Pure functions over the store's decoded rows (`Store.iter_current(year)` for 附件3-2 and
`Store.iter_current(year, form="jixiao.xiangmu")` for 附件3-1); no I/O.

- Σ over a unit's 附件3-1 returns of 全年执行数 (the 年度资金总额 row) exceeding the unit's 附件3-2
  项目支出 by more than 0.01 万元 → `projects_exceed_unit` (warning, both figures in the message).
- 附件3-2 项目支出 > 0 and no 附件3-1 return → `projects_missing` (warning).

Returns with errors are not trusted: a 附件3-1 return with errors is left out of the sum (the message
says how many); a unit whose 附件3-2 return has errors, or has no 附件3-2 return, or all of whose
附件3-1 returns have errors, is not checked — `cross_check_skipped` (info) says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from .form.rowform import RowForm, row_forms, xiangmu_template
from .numbers import ZERO, q2, to_decimal
from .template import default_template

TOLERANCE = Decimal("0.01")  # 万元
OK, EXCEED, MISSING, SKIPPED, NOTHING = "一致", "项目执行数超过项目支出", "缺少项目表", "未核对", "无项目支出"


@dataclass
class CrossFinding:
    """One cross-form finding of a unit (not of a single return)."""

    severity: str
    code: str
    budget_code: str
    unit_name: str
    parent_dept: str
    message: str
    unit_amount: float | None = None  # 附件3-2 项目支出, 万元
    projects_amount: float | None = None  # Σ 附件3-1 全年执行数 over the counted returns, 万元

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CrossCheck:
    """The comparison of one unit: what each form says and the result."""

    budget_code: str
    unit_name: str = ""
    parent_dept: str = ""
    unit_amount: Decimal | None = None  # None: no usable 附件3-2 return
    unit_errors: int | None = None  # None: no 附件3-2 return
    projects: int = 0  # 附件3-1 returns
    counted: int = 0  # of them without errors (summed)
    executed: Decimal = ZERO  # Σ 全年执行数 of the counted returns
    result: str = ""
    finding: CrossFinding | None = None

    @property
    def difference(self) -> Decimal | None:
        return None if self.unit_amount is None or not self.counted else q2(self.executed - self.unit_amount)


def form_of(row: Mapping[str, Any]) -> RowForm:
    """The row form a stored 附件3-1 return was scored with (the built-in one when unknown)."""
    key = (str(row.get("template_id") or ""), str(row.get("template_version") or ""))
    return row_forms().get(key) or xiangmu_template()


def money(value: Any) -> Decimal | None:
    """A stored amount as Decimal (None when blank or not a number)."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return to_decimal(value)
    except TypeError:
        return None


def errors_of(row: Mapping[str, Any]) -> int:
    """Error findings of a stored return (the column, else the report's count)."""
    n = row.get("errors")
    if n is None:
        n = (row.get("report") or {}).get("errors") or 0
    try:
        return int(n)
    except (TypeError, ValueError):
        return 1


def project_funds(row: Mapping[str, Any], form: RowForm | None = None) -> dict[str, Decimal | None]:
    """The 年度资金总额 row of a stored 附件3-1 return: column key → total (what its SUM cells show)."""
    f = (form or form_of(row)).funds
    computed = (row.get("report") or {}).get("computed") or {}
    inputs = (row.get("return") or {}).get("inputs") or {}
    out: dict[str, Decimal | None] = {}
    for col in f.columns:
        total = money(computed.get(f"funds_total_{col.key}"))
        if total is None:  # no computed value stored: add the row cells as the SUM does (blank = 0)
            cells = [money(inputs.get(f.key(r.key, col.key))) for r in f.rows]
            total = q2(sum((c for c in cells if c is not None), ZERO))
        out[col.key] = total
    return out


def project_executed(row: Mapping[str, Any], form: RowForm | None = None) -> Decimal | None:
    form = form or form_of(row)
    return project_funds(row, form)[form.funds.executed_column]


def unit_project_key() -> str:
    """The 附件3-2 figure (项目支出) the projects are checked against: the template's [form.district] projects_spend."""
    return default_template().form.projects_spend


def unit_project_amount(row: Mapping[str, Any]) -> Decimal | None:
    """附件3-2 项目支出 of a stored unit return (blank = 0, as the form counts it)."""
    computed = (row.get("report") or {}).get("computed") or {}
    inputs = (row.get("return") or {}).get("inputs") or {}
    key = unit_project_key()
    value = computed.get(key, inputs.get(key))
    if value is None or value == "":
        return ZERO
    return money(value)


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def _wan(d: Decimal) -> str:
    return f"{q2(d):.2f} 万元"


def cross_form_checks(unit_rows: Iterable[Mapping[str, Any]],
                      project_rows: Iterable[Mapping[str, Any]]) -> list[CrossCheck]:
    """Every unit that has a 附件3-2 or a 附件3-1 return, with the result of the check, by budget code.

    Both iterables are consumed once; memory is one small record per unit.
    """
    checks: dict[str, CrossCheck] = {}
    for row in project_rows:
        code = _text(row.get("budget_code"))
        c = checks.get(code)
        if c is None:
            c = checks[code] = CrossCheck(code, _text(row.get("unit_name")), _text(row.get("parent_dept")))
        c.projects += 1
        executed = project_executed(row) if errors_of(row) == 0 else None
        if executed is not None:
            c.counted += 1
            c.executed += executed
    for row in unit_rows:
        code = _text(row.get("budget_code"))
        c = checks.get(code)
        if c is None:
            c = checks[code] = CrossCheck(code)
        c.unit_name = _text(row.get("unit_name")) or c.unit_name  # the unit form names the unit
        c.parent_dept = _text(row.get("parent_dept")) or c.parent_dept
        c.unit_errors = errors_of(row)
        c.unit_amount = unit_project_amount(row) if c.unit_errors == 0 else None
    out = [checks[k] for k in sorted(checks)]
    for c in out:
        _judge(c)
    return out


def _judge(c: CrossCheck) -> None:
    def finding(severity: str, code: str, message: str) -> CrossFinding:
        return CrossFinding(severity, code, c.budget_code, c.unit_name, c.parent_dept, message,
                            None if c.unit_amount is None else float(q2(c.unit_amount)),
                            float(q2(c.executed)) if c.counted else None)

    left_out = c.projects - c.counted
    left_note = f"；另有 {left_out} 份附件3-1 有错误，未计入合计" if left_out and c.counted else ""
    if c.unit_errors is None:
        c.result = SKIPPED
        summed = f"（全年执行数合计 {_wan(c.executed)}{left_note}）" if c.counted else "（均有错误）"
        c.finding = finding("info", "cross_check_skipped",
                            f"有 {c.projects} 份附件3-1 项目支出绩效自评表{summed}，但没有附件3-2 部门整体支出绩效自评表，"
                            "无法核对项目支出")
    elif c.unit_amount is None:
        c.result = SKIPPED
        c.finding = finding("info", "cross_check_skipped",
                            f"附件3-2 部门整体支出绩效自评表有 {c.unit_errors} 个错误，其项目支出不可信，"
                            f"未与附件3-1（{c.projects} 份）核对")
    elif c.projects == 0:
        if c.unit_amount > 0:
            c.result = MISSING
            c.finding = finding("warning", "projects_missing",
                                f"附件3-2 项目支出 {_wan(c.unit_amount)}，但没有收到该单位的附件3-1 项目支出绩效自评表"
                                "（项目表 0 份）")
        else:
            c.result = NOTHING
    elif c.counted == 0:
        c.result = SKIPPED
        c.finding = finding("info", "cross_check_skipped",
                            f"该单位的 {c.projects} 份附件3-1 项目支出绩效自评表都有错误，未与附件3-2 项目支出"
                            f"（{_wan(c.unit_amount)}）核对")
    elif c.executed - c.unit_amount > TOLERANCE:
        c.result = EXCEED
        c.finding = finding("warning", "projects_exceed_unit",
                            f"附件3-1 {c.counted} 个项目的全年执行数合计 {_wan(c.executed)}，超过附件3-2 项目支出 "
                            f"{_wan(c.unit_amount)}（多 {_wan(c.executed - c.unit_amount)}）{left_note}")
    else:
        c.result = OK + (f"（{left_out} 份有错误的项目表未计入）" if left_out else "")


def cross_form_findings(unit_rows: Iterable[Mapping[str, Any]],
                        project_rows: Iterable[Mapping[str, Any]]) -> list[CrossFinding]:
    """The cross-form findings of a year, by budget code (warnings and the info on units not checked)."""
    return [c.finding for c in cross_form_checks(unit_rows, project_rows) if c.finding is not None]
