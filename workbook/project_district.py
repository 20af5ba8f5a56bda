"""The 项目支出 district workbook (附件3-1) and CSVs, from the store's current project returns.

Sheets: 项目明细 (one row per project), 单位汇总, 主管部门汇总, 执行率分布 (with a chart), 未达标指标
(every used indicator row scoring below its 分值), 跨表核对 (附件3-1 against 附件3-2, workbook.crossform),
问题清单 (the findings of every return) and 未报送 (projects of the roster without a return).

As in workbook/consolidate.py for 附件3-2: a return with errors is listed (marked, with the reason) but
left out of every sum, average, band and the indicator list; rows stream from the store into temporary
spool files (the per-project tables) or small per-unit / per-department accumulators, and the workbook
is written in xlsxwriter's constant-memory mode when it is large.  Unit text is always a string cell,
quote-prefixed when it starts like a formula (and with a leading apostrophe in CSV files).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
import xlsxwriter.exceptions

from .consolidate import (
    CODE_ZH,
    EXCLUDED,
    INCLUDED,
    PRINTABLE_PX,
    STREAM_ROWS,
    FindingSpool,
    _cell,
    _fit_row,
    _formats,
    _print_setup,
    safe_text,
    write_csv_rows,
    write_xlsx_file,
)
from .crossform import (
    EXCEED,
    MISSING,
    NOTHING,
    OK,
    SKIPPED,
    CrossCheck,
    CrossFinding,
    cross_form_checks,
    errors_of,
    form_of,
    money,
    project_funds,
)
from .form.rowform import RowForm, xiangmu_template
from .form.unit import Unit
from .numbers import HUNDRED, ZERO, q2
from .outputs import Outputs, check_target, prepare_dir
from .report import SEVERITY_ORDER, SEVERITY_ZH

GRADES = [grade for _, grade in xiangmu_template().grade_bands]  # 附件3-1's grades (xiangmu.toml), best first

NO_DEPT = "（未填主管部门）"
PRINT_SLACK = 0.88  # share of the printable width the columns may fill
RATE = "执行率（%）"
BANDS: tuple[tuple[str, Decimal, Decimal | None], ...] = (
    ("低于50%", ZERO, Decimal(50)), ("50%–60%", Decimal(50), Decimal(60)), ("60%–70%", Decimal(60), Decimal(70)),
    ("70%–80%", Decimal(70), Decimal(80)), ("80%–90%", Decimal(80), Decimal(90)), ("90%及以上", Decimal(90), None))
NO_RATE = "无执行率（全年预算数为 0）"
SHEETS = ("项目明细", "单位汇总", "主管部门汇总", "执行率分布", "未达标指标", "跨表核对", "问题清单", "未报送")
FINDING_COLUMNS = ["预算编码", "单位名称", "主管部门", "项目名称", "严重程度", "问题", "位置", "说明", "已说明", "审核说明",
                   "代码"]
BELOW_COLUMNS = ["预算编码", "单位名称", "主管部门", "项目编码", "项目名称", "一级指标", "三级指标", "指标性质", "年度指标值",
                 "度量单位", "实际完成值", "分值", "得分", "扣分", "偏差原因分析及改进措施"]
CROSS_COLUMNS = ["预算编码", "单位名称", "主管部门", "附件3-2项目支出（万元）", "附件3-1项目表数", "计入合计的项目表数",
                 "全年执行数合计（万元）", "差额（万元）", "核对结果", "说明"]


def detail_columns(form: RowForm) -> list[str]:
    f = form.funds
    money_cols = [f"{c.label}（万元）" for c in f.columns]
    return ["预算编码", "单位名称", "主管部门", "项目编码", "项目名称", *money_cols, RATE, f"{f.label.split('（')[0]}得分",
            *[f"{lv.name}得分" for lv in form.levels], "总分", "等次", "错误", "警告", "计入统计", "不计入原因"]


class Spool(FindingSpool):
    """Rows of one large table, pickled to a temporary file as they stream in."""

    def __init__(self, columns: list[str]) -> None:
        super().__init__()
        self.columns = columns

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self), columns=self.columns)


@dataclass
class _Agg:
    """Sums over the projects of a unit or a department."""

    name: str = ""
    dept: str = ""
    projects: int = 0
    counted: int = 0
    budget: Decimal = ZERO
    executed: Decimal = ZERO
    scored: int = 0
    score_sum: float = 0.0
    low: float | None = None
    high: float | None = None
    grades: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))
    units: set[str] | None = None  # budget codes (departments and the district only)

    def add(self, counted: bool, budget: Decimal | None, executed: Decimal | None, total: Any, grade: Any) -> None:
        self.projects += 1
        if not counted:
            return
        self.counted += 1
        self.budget += budget or ZERO
        self.executed += executed or ZERO
        if isinstance(total, int | float) and not isinstance(total, bool):
            score = float(total)
            self.scored += 1
            self.score_sum += score
            self.low = score if self.low is None else min(self.low, score)
            self.high = score if self.high is None else max(self.high, score)
        if grade in self.grades:
            self.grades[grade] += 1

    def rate(self) -> float | None:
        return float(q2(HUNDRED * self.executed / self.budget)) if self.budget > 0 else None

    def mean(self) -> float | None:
        return _r2(self.score_sum / self.scored) if self.scored else None


@dataclass
class ProjectTables:
    """The tables of the 项目支出 district workbook, in sheet order: small ones as DataFrames, per-project ones
    spooled."""

    year: int
    region: str
    form: RowForm
    details: Spool
    below: Spool
    findings: Spool
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    bands: list[tuple[str, int]] = field(default_factory=list)
    no_rate: int = 0
    included: int = 0
    excluded: int = 0
    checks: list[CrossCheck] | None = None  # None: no 附件3-2 rows were given

    def title(self, sheet: str) -> str:
        return f"{self.year}年度{self.region}项目支出绩效自评汇总 · {sheet}"

    @property
    def cross_findings(self) -> list[CrossFinding]:
        return [c.finding for c in self.checks or [] if c.finding is not None]

    def spools(self) -> dict[str, Spool]:
        return {"项目明细": self.details, "未达标指标": self.below, "问题清单": self.findings}

    def frame(self, sheet: str) -> pd.DataFrame:
        """Any sheet as a DataFrame (the spooled ones are read back: for tests and small districts)."""
        spool = self.spools().get(sheet)
        return spool.frame() if spool is not None else self.frames[sheet]

    def close(self) -> None:
        for s in self.spools().values():
            s.close()


def _r2(value: float) -> float:
    return float(q2(Decimal(repr(float(value)))))


def _num(value: Any) -> float | None:
    d = money(value)
    return float(d) if d is not None else None


def _dec_float(value: Decimal | None) -> float | None:
    return None if value is None else float(q2(value))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _reason(findings: list[dict[str, Any]]) -> str:
    errors = [f for f in findings if f.get("severity") == "error"]
    if not errors:
        return ""
    kinds = list(dict.fromkeys(CODE_ZH.get(f["code"], f["code"]) for f in errors))
    return f"有 {len(errors)} 个错误（{'、'.join(kinds[:3])}{'等' if len(kinds) > 3 else ''}）"


def where_labels(form: RowForm) -> dict[str, str]:
    """Finding location (input key, row id, level id) → its Chinese label."""
    f = form.funds
    out = {k.key: k.label for k in (*form.identity, *form.header, *form.goals, *form.texts)}
    out["funds"] = f"{f.label}·{f.total.label}"
    out[f.reason_key] = f"{f.label}·偏差原因"
    for r in f.rows:
        for c in f.columns:
            out[f.key(r.key, c.key)] = f"{r.label.removeprefix('其中：')}{c.label}"
    for lv in form.levels:
        out[lv.id] = lv.name
        for n, rid in enumerate(lv.row_ids(), start=1):
            out[rid] = f"{lv.name}第{n}行"
            for c in form.row_columns:
                out[form.row_key(rid, c.key)] = f"{lv.name}第{n}行{c.label}"
    return out


def _band(rate: Decimal) -> int:
    for i, (_, lo, hi) in enumerate(BANDS):
        if rate >= lo and (hi is None or rate < hi):
            return i
    return 0  # a negative rate cannot come from a return without errors


class _Builder:
    def __init__(self, form: RowForm, track_projects: bool = False):
        self.form = form
        self.track_projects = track_projects  # keep every project's key (for 未报送 against a roster)
        self.labels: dict[tuple[str, str], dict[str, str]] = {}
        self.level_ids = [lv.id for lv in form.levels]
        self.details = Spool(detail_columns(form))
        self.below = Spool(BELOW_COLUMNS)
        self.findings = Spool(FINDING_COLUMNS)
        self.units: dict[str, _Agg] = {}
        self.depts: dict[str, _Agg] = {}
        self.total = _Agg(units=set())
        self.row_ids: dict[tuple[str, str], frozenset[str]] = {}
        self.band_counts = [0] * len(BANDS)
        self.band_money = [[ZERO, ZERO] for _ in BANDS]
        self.no_rate = 0
        self.included = self.excluded = 0
        self.seen: set[tuple[str, str]] = set()

    def add(self, row: Mapping[str, Any]) -> None:
        form = form_of(row)
        key = (form.id, form.version)
        labels = self.labels.get(key) or self.labels.setdefault(key, where_labels(form))
        ret, rep = row.get("return") or {}, row.get("report") or {}
        inputs = ret.get("inputs") or {}
        code, name = _text(row.get("budget_code")), _text(row.get("unit_name"))
        dept = sys.intern(_text(row.get("parent_dept")))
        pcode, pname = _text(row.get("project_code")), _text(row.get("project_name"))
        unit = ret.get("unit") or {}
        pcode = pcode or _text(unit.get("project_code"))
        pname = pname or _text(unit.get("project_name"))
        if self.track_projects:
            self.seen.add((code, _text(row.get("project_key")) or pcode or " ".join(pname.split())))
        findings = sorted(rep.get("findings") or [], key=lambda f: SEVERITY_ORDER.get(f.get("severity"), 9))
        explanations = ret.get("explanations") or {}
        for f in findings:
            self.findings.add([code, name, dept, pname, SEVERITY_ZH.get(f["severity"], f["severity"]),
                               CODE_ZH.get(f["code"], f["code"]), labels.get(f.get("where") or "", f.get("where") or ""),
                               f.get("message") or "", "是" if f.get("explained") else "",
                               f.get("explanation") or explanations.get(f.get("check") or "", ""), f["code"]])
        errors = errors_of(row)
        ok = errors == 0
        self.included += ok
        self.excluded += not ok
        funds = project_funds(row, form)
        budget, executed = funds.get(form.funds.budget_column), funds.get(form.funds.executed_column)
        computed = rep.get("computed") or {}
        rate = money(computed.get("funds_rate"))
        subtotals = rep.get("subtotals") or {}
        total, grade = rep.get("total"), rep.get("grade") or ""
        self.details.add([
            code, name, dept, pcode, pname, *[_dec_float(funds.get(c.key)) for c in self.form.funds.columns],
            _dec_float(rate), _num(subtotals.get("funds")), *[_num(subtotals.get(lv)) for lv in self.level_ids],
            _num(total), grade, errors, int(row.get("warnings") or rep.get("warnings") or 0),
            INCLUDED if ok else EXCLUDED, _reason(findings) or ("" if ok else f"有 {errors} 个错误")])
        for agg in (self.units.setdefault(code, _Agg(name, dept)),
                    self.depts.setdefault(dept or NO_DEPT, _Agg(units=set())), self.total):
            agg.add(ok, budget, executed, _num(total), grade)
            if agg.units is not None:
                agg.units.add(code)
        if not ok:
            return
        if rate is None:
            self.no_rate += 1
        else:
            i = _band(rate)
            self.band_counts[i] += 1
            self.band_money[i][0] += budget or ZERO
            self.band_money[i][1] += executed or ZERO
        rows = self.row_ids.get(key)
        if rows is None:
            rows = self.row_ids[key] = frozenset(rid for lv in form.levels for rid in lv.row_ids())
        for ind in rep.get("indicators") or []:
            if ind.get("id") not in rows or ind.get("status") != "ok":
                continue
            points, score = money(ind.get("max")), money(ind.get("score"))
            if points is None or score is None or score >= points:
                continue
            rid = ind["id"]
            value = {c.key: inputs.get(form.row_key(rid, c.key)) for c in form.row_columns}
            self.below.add([code, name, dept, pcode, pname, ind.get("level1") or "", _text(value.get("name")),
                            _text(value.get("nature")), value.get("target"), _text(value.get("unit")),
                            value.get("actual"), float(points), float(score), float(q2(points - score)),
                            _text(value.get("reason"))])


def build_project_tables(project_rows: Iterable[Mapping[str, Any]], year: int,
                         unit_rows: Iterable[Mapping[str, Any]] | None = (), roster: list[Unit] | None = None,
                         region: str | None = None, form: RowForm | None = None) -> ProjectTables:
    """Every table of the 项目支出 district workbook from the store's current 附件3-1 rows.

    `unit_rows`: the year's current 附件3-2 rows for 跨表核对 (None: no cross-form check).  `roster`: the
    project roster (read_project_roster) for 未报送.  Rows are consumed once; per-project rows are spooled.
    """
    form = form or xiangmu_template()
    b = _Builder(form, track_projects=roster is not None)

    def tee(rows: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        for row in rows:
            b.add(row)
            yield row

    checks = cross_form_checks(unit_rows, tee(project_rows)) if unit_rows is not None else None
    if checks is None:
        for row in project_rows:
            b.add(row)
    t = ProjectTables(year, region or form.region, form, b.details, b.below, b.findings, included=b.included,
                      excluded=b.excluded, checks=checks, no_rate=b.no_rate,
                      bands=[(label, n) for (label, _, _), n in zip(BANDS, b.band_counts, strict=True)])
    by_code = {c.budget_code: c for c in checks or []}
    money_cols = [f"{c.label}（万元）" for c in form.funds.columns if c.key in (form.funds.budget_column,
                                                                          form.funds.executed_column)]
    budget_col, executed_col = money_cols

    # 单位汇总 -----------------------------------------------------------
    unit_out = []
    for code in sorted(b.units):
        a = b.units[code]
        c = by_code.get(code)
        unit_out.append({"预算编码": code, "单位名称": a.name, "主管部门": a.dept, "项目数": a.projects,
                         "计入项目数": a.counted, budget_col: _dec_float(a.budget), executed_col: _dec_float(a.executed),
                         RATE: a.rate(), "平均分": a.mean(), **a.grades, "不计入项目数": a.projects - a.counted,
                         "附件3-2项目支出（万元）": _dec_float(c.unit_amount) if c else None,
                         "跨表核对": (c.result if c else "未核对（未提供附件3-2数据）")})
    if b.units:
        a = b.total
        unit_out.append({"预算编码": "全区合计", "单位名称": f"{year}年度，{len(b.units)} 个单位", "主管部门": "",
                         "项目数": a.projects, "计入项目数": a.counted, budget_col: _dec_float(a.budget),
                         executed_col: _dec_float(a.executed), RATE: a.rate(), "平均分": a.mean(), **a.grades,
                         "不计入项目数": a.projects - a.counted, "附件3-2项目支出（万元）": None, "跨表核对": ""})
    t.frames["单位汇总"] = pd.DataFrame(unit_out, columns=["预算编码", "单位名称", "主管部门", "项目数", "计入项目数",
                                                        budget_col, executed_col, RATE, "平均分", *GRADES,
                                                        "不计入项目数", "附件3-2项目支出（万元）", "跨表核对"])

    # 主管部门汇总 --------------------------------------------------------
    dept_out = []
    for dept in sorted(b.depts):
        dept_out.append(_dept_row(dept, b.depts[dept], budget_col, executed_col))
    if b.depts:
        dept_out.append(_dept_row(f"全区合计（{year}年度）", b.total, budget_col, executed_col))  # 主管部门 is wide
    t.frames["主管部门汇总"] = pd.DataFrame(dept_out, columns=["主管部门", "单位数", "项目数", "计入项目数", budget_col,
                                                          executed_col, RATE, "平均分", "最低分", "最高分", *GRADES,
                                                          "不计入项目数"])

    # 执行率分布 ----------------------------------------------------------
    rated = sum(b.band_counts)
    band_rows = [{"执行率区间": label, "项目数": n, "占比": (n / rated) if rated else None,
                  budget_col: _dec_float(m[0]), executed_col: _dec_float(m[1])}
                 for (label, n), m in zip(t.bands, b.band_money, strict=True)]
    band_rows.append({"执行率区间": NO_RATE, "项目数": b.no_rate, "占比": None, budget_col: None, executed_col: None})
    t.frames["执行率分布"] = pd.DataFrame(band_rows, columns=["执行率区间", "项目数", "占比", budget_col, executed_col])

    # 跨表核对 ------------------------------------------------------------
    if checks is None:
        t.frames["跨表核对"] = pd.DataFrame([{"说明": "未提供附件3-2 部门整体支出绩效自评数据，未做跨表核对"}])
    else:
        order = {EXCEED: 0, MISSING: 1, SKIPPED: 2}
        shown = sorted((c for c in checks if c.result != NOTHING),
                       key=lambda c: (order.get(c.result, 3), c.budget_code))
        t.frames["跨表核对"] = pd.DataFrame([{
            "预算编码": c.budget_code, "单位名称": c.unit_name, "主管部门": c.parent_dept,
            "附件3-2项目支出（万元）": _dec_float(c.unit_amount), "附件3-1项目表数": c.projects,
            "计入合计的项目表数": c.counted, "全年执行数合计（万元）": _dec_float(c.executed) if c.counted else None,
            "差额（万元）": _dec_float(c.difference), "核对结果": c.result,
            "说明": c.finding.message if c.finding else ""} for c in shown], columns=CROSS_COLUMNS)

    # 未报送 --------------------------------------------------------------
    if roster is not None:
        missing = []
        for u in roster:
            pc = _text(u.prefill.get("project_code"))
            pn = _text(u.prefill.get("project_name"))
            if (u.budget_code, pc or " ".join(pn.split())) not in b.seen:
                missing.append({"预算编码": u.budget_code, "单位名称": u.unit_name, "主管部门": u.parent_dept or "",
                                "项目编码": pc, "项目名称": pn})
        t.frames["未报送"] = pd.DataFrame(missing, columns=["预算编码", "单位名称", "主管部门", "项目编码", "项目名称"])
    else:
        t.frames["未报送"] = pd.DataFrame([{"说明": "未提供项目花名册，无法列出未报送的项目"}])
    return t


def _dept_row(name: str, a: _Agg, budget_col: str, executed_col: str) -> dict[str, Any]:
    return {"主管部门": name, "单位数": len(a.units or ()), "项目数": a.projects, "计入项目数": a.counted,
            budget_col: _dec_float(a.budget), executed_col: _dec_float(a.executed), RATE: a.rate(), "平均分": a.mean(),
            "最低分": a.low, "最高分": a.high, **a.grades,
            "不计入项目数": a.projects - a.counted}


# ---------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------

INT_COLUMNS = {"项目数", "计入项目数", "不计入项目数", "单位数", "错误", "警告", "附件3-1项目表数", "计入合计的项目表数", *GRADES}
AS_TYPED = {"年度指标值", "实际完成值"}  # the unit's own numbers, shown as typed (General)
WRAP_COLUMNS = {"说明", "审核说明", "不计入原因", "偏差原因分析及改进措施", "跨表核对", "核对结果"}
WIDTHS = {"预算编码": 10, "单位名称": 22, "主管部门": 22, "项目编码": 12, "项目名称": 22, "说明": 50, "审核说明": 24,
          "位置": 20, "问题": 14, "代码": 15, "严重程度": 8, "已说明": 6, "等次": 6, "错误": 6, "警告": 6,
          "计入统计": 8, "不计入原因": 24, "一级指标": 10, "三级指标": 22, "指标性质": 8, "年度指标值": 10,
          "度量单位": 8, "实际完成值": 10, "分值": 6, "得分": 6, "扣分": 6, "偏差原因分析及改进措施": 30,
          "执行率区间": 26, "附件3-1项目表数": 9, "计入合计的项目表数": 10, "跨表核对": 16, "核对结果": 16, RATE: 9}


def _width(col: str) -> float:
    if col in WIDTHS:
        return WIDTHS[col]
    return 12 if "万元" in col else 8


def _fmt(col: str, f: dict) -> tuple[Any, Any, Any]:
    num = f["pct"] if col == "占比" else (f["int"] if col in INT_COLUMNS else f["num"])
    if col in AS_TYPED:
        num = f["plain"]
    if "万元" in col:
        num = f["money"]
    if col == "代码":
        return f["code"], num, f["code"]
    if col in WRAP_COLUMNS:
        return f["wrap"], num, f["wrap_quoted"]
    return f["text"], num, f["text_quoted"]


def _header(ws, columns: list[str], f: dict, title: str, note: str | None = None) -> int:
    from .form.textfit import line_count, row_height

    text = f"{title}\n{note}" if note else title
    span = sum(_width(c) for c in columns) * 11 / 14  # the title is in 14 pt
    ws.set_row(0, max(24, line_count(text, span) * 20 + 4))
    if len(columns) > 1:
        ws.merge_range(0, 0, 0, len(columns) - 1, text, f["title"])
    else:
        ws.write_string(0, 0, text, f["title"])
    ws.set_row(1, max(32, row_height([(c, _width(c)) for c in columns])))
    for c, col in enumerate(columns):
        ws.write_string(1, c, col, f["head"])
        ws.set_column(c, c, _width(col))
    ws.freeze_panes(2, 0)
    return 2


def _write_rows(ws, columns: list[str], rows: Iterable[Iterable[Any]], f: dict, title: str,
                note: str | None = None, excluded_col: int | None = None) -> int:
    """A titled table; returns the number of data rows.  Rows whose `excluded_col` says 不计入 are marked."""
    first = _header(ws, columns, f, title, note)
    fmts = [_fmt(c, f) for c in columns]
    widths = [_width(c) for c in columns]
    ex = {id(f["text"]): f["excluded_text"], id(f["wrap"]): f["excluded_text"], id(f["num"]): f["excluded_num"],
          id(f["int"]): f["excluded_int"], id(f["money"]): f["excluded_num"]}
    total_fmt = {id(f["int"]): f["total_int"], id(f["money"]): f["total_money"]}
    r = first
    for values in rows:
        values = list(values)
        total_row = isinstance(values[0], str) and values[0].startswith("全区合计")
        excluded = excluded_col is not None and values[excluded_col] == EXCLUDED
        for c, value in enumerate(values):
            text_fmt, num_fmt, quoted_fmt = fmts[c]
            if total_row:
                text_fmt, num_fmt = f["total_text"], total_fmt.get(id(num_fmt), f["total"])
            elif excluded:
                text_fmt, num_fmt, quoted_fmt = ex.get(id(text_fmt), text_fmt), ex.get(id(num_fmt), num_fmt), \
                    f["excluded_quoted"]
            _cell(ws, r, c, value, text_fmt, num_fmt, quoted_fmt)
        _fit_row(ws, r, values, widths)
        r += 1
    if r > first:
        ws.autofilter(1, 0, r - 1, len(columns) - 1)
    _page(ws, widths)
    return r - first


def _page(ws, widths: list[float]) -> None:
    """A4 as the 附件3-2 district workbook, at a scale with more room for LibreOffice's slightly wider columns."""
    _print_setup(ws, widths)
    pixels = sum(int(w * 7 + 0.5) + 5 for w in widths)
    landscape = pixels > PRINTABLE_PX[False]
    ws.set_print_scale(max(10, min(100, int(PRINTABLE_PX[landscape] * PRINT_SLACK / pixels * 100))))


def write_project_workbook(tables: ProjectTables, path: str | Path) -> Path:
    """Render the tables as the 项目支出 district workbook (formats, filters, a chart, A4 print setup)."""
    p = Path(path)
    size = len(tables.details) + len(tables.below) + len(tables.findings)
    wb = xlsxwriter.Workbook(p, {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                                 "nan_inf_to_errors": True, "constant_memory": size > STREAM_ROWS})
    wb.set_properties({"title": f"{tables.year}年度{tables.region}项目支出绩效自评汇总", "author": "jixiao"})
    f = _formats(wb)
    f["plain"] = wb.add_format({"font_name": "宋体", "valign": "vcenter", "border": 1})
    only = (f"只统计 {tables.included} 份没有错误的项目表"
            + (f"；{tables.excluded} 份有错误的项目表未计入" if tables.excluded else ""))
    for name in SHEETS:
        ws = wb.add_worksheet(name)
        title = tables.title(name)
        if name == "项目明细":
            cols = tables.details.columns
            note = ("总分、等次按复算；" + only + "（标红的行，原因见“不计入原因”列）") if tables.excluded else None
            _write_rows(ws, cols, tables.details, f, title, note, excluded_col=cols.index("计入统计"))
            ws.freeze_panes(2, 5)
        elif name == "未达标指标":
            n = _write_rows(ws, BELOW_COLUMNS, tables.below, f, title,
                            "已填写的指标行中得分低于分值的（完成值未达到指标值）；" + only)
            if not n:
                ws.write_string(2, 0, "没有未达标的指标", f["text"])
        elif name == "问题清单":
            n = _write_rows(ws, FINDING_COLUMNS, tables.findings, f, title, "各项目表的审核问题；跨表核对的结果见“跨表核对”表")
            if n:
                sev = FINDING_COLUMNS.index("严重程度")
                ws.conditional_format(2, sev, n + 1, sev, {"type": "cell", "criteria": "==", "value": '"错误"',
                                                          "format": f["bad"]})
        else:
            frame = tables.frames[name]
            note = {"单位汇总": only, "主管部门汇总": only, "执行率分布": only + "；区间含下限不含上限",
                    "跨表核对": "单位各附件3-1 项目全年执行数（年度资金总额行）合计与其附件3-2 项目支出的核对，容差 0.01 万元；"
                                "有错误的报表不参与核对"}.get(name)
            n = _write_rows(ws, [str(c) for c in frame.columns], frame.itertuples(index=False, name=None), f, title,
                            note)
            if name == "执行率分布":
                _chart(wb, ws, tables, n)
            if name == "跨表核对" and "核对结果" in frame.columns and n:
                col = list(frame.columns).index("核对结果")
                for result in (EXCEED, MISSING):
                    ws.conditional_format(2, col, n + 1, col, {"type": "cell", "criteria": "==",
                                                               "value": f'"{result}"', "format": f["bad"]})
            if name == "单位汇总" and n > 1:
                col = list(frame.columns).index("跨表核对")
                ws.conditional_format(2, col, n, col, {"type": "text", "criteria": "not containing",
                                                           "value": OK, "format": f["bad"]})
    wb.close()
    return p


def _chart(wb, ws, tables: ProjectTables, rows: int) -> None:
    """A column chart of the bands (the rows above 无执行率) under the table."""
    n = len(BANDS)
    counts = [c for _, c in tables.bands]
    step = max(1, math.ceil(max(counts + [1]) / 8))
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "项目数", "categories": ["执行率分布", 2, 0, 1 + n, 0], "values": ["执行率分布", 2, 1, 1 + n, 1],
                      "data_labels": {"value": True, "num_format": "0"}, "gap": 30})
    chart.set_title({"name": f"{tables.year}年度{tables.region}项目资金执行率分布"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"min": 0, "major_unit": step, "num_format": "0", "name": "项目数",
                      "max": step * max(1, math.ceil(max(counts + [1]) / step))})
    chart.set_x_axis({"name": "执行率"})
    ws.insert_chart(rows + 4, 0, chart, {"x_scale": 1.1, "y_scale": 1.2})  # within the portrait page


def write_project_csvs(tables: ProjectTables, out_dir: str | Path, outputs: Outputs | None = None) -> list[Path]:
    """Each sheet as UTF-8 CSV with BOM (Excel opens it in Chinese), unit text escaped."""
    d = prepare_dir(out_dir)
    paths = []
    spools = tables.spools()
    with nullcontext(outputs) if outputs is not None else Outputs(force=True) as out:
        for name in SHEETS:
            if name in spools:
                paths.append(out.add(d / f"{name}.csv", lambda tmp, s=spools[name]: _spool_csv(s, tmp),
                                     suffixes=(".csv",)))
            else:
                escaped = tables.frames[name].map(safe_text)
                paths.append(out.add(d / f"{name}.csv",
                                     lambda tmp, fr=escaped: fr.to_csv(tmp, index=False, encoding="utf-8-sig"),
                                     suffixes=(".csv",)))
    return paths


def _spool_csv(spool: Spool, path: Path) -> None:
    write_csv_rows(path, spool.columns, spool)


def _write_file(tables: ProjectTables, tmp: Path) -> None:
    write_xlsx_file(write_project_workbook, tables, tmp)


def consolidate_projects(store: Any, year: int, out: str | Path, csv_dir: str | Path | None = None,
                         region: str | None = None, force: bool = False,
                         roster: list[Unit] | None = None) -> ProjectTables:
    """Build the 项目支出 district workbook (and CSVs) for a year from the store's current returns.

    Every target is checked before anything is written (existing files are refused unless `force`), and
    the workbook and CSVs are renamed into place together at the end.
    """
    form = xiangmu_template()
    check_target(out, (".xlsx",), force)
    if csv_dir:
        d = prepare_dir(csv_dir)
        for name in SHEETS:
            check_target(d / f"{name}.csv", (".csv",), force)
    tables = build_project_tables(store.iter_current(year, form=form.id), year, unit_rows=store.iter_current(year),
                                  roster=roster, region=region, form=form)
    with Outputs(force=force) as outputs:
        if csv_dir:
            write_project_csvs(tables, csv_dir, outputs)
        outputs.add(out, lambda tmp: _write_file(tables, tmp))
    return tables
