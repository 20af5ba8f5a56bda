"""The consolidated district workbook (xlsxwriter) and CSVs, from the store's current returns.

Returns with error findings are shown but excluded (and marked, with the reason) from
ranks, averages, department and indicator statistics and 财务汇总: their figures are not
trustworthy.  Rows are reduced to lean columns as they stream from the store, findings are
spooled to a temporary file, and the workbook is written in xlsxwriter's constant-memory
mode when it is large, so a district (or a province) of 100 000 units consolidates in bounded memory.

Text that came from a unit is data: it is always written as a string cell.  Text that starts
with = + - @ (or a tab / carriage return) gets the quote-prefix cell style in the workbook (Excel
shows it as typed and keeps it text when edited) and a leading apostrophe in CSV files, so that
neither Excel nor a CSV reader evaluates it.
"""

from __future__ import annotations

import csv
import math
import pickle
import sys
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pandas as pd
import xlsxwriter
import xlsxwriter.exceptions

from .dataframe import indicator_columns
from .form.unit import Unit
from .numbers import q2, to_decimal
from .outputs import Outputs, check_target, prepare_dir
from .report import SEVERITY_ORDER, SEVERITY_ZH
from .store import Store
from .template import Template, default_template

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
INCLUDED, EXCLUDED = "计入", "不计入"
# Conditional formats of the grades, best first (the template's grade bands, in order).
GRADE_COLORS = [("#C6EFCE", "#006100"), ("#DDEBF7", "#1F4E78"), ("#FFEB9C", "#9C5700"), ("#FFC7CE", "#9C0006")]
CODE_ZH = {
    "file_rejected": "文件被拒收", "template_unknown": "无法识别的模板", "template_modified": "模板被修改",
    "formula_tampered": "公式被修改", "missing_input": "必填数据未填", "invalid_input": "数据无效",
    "score_mismatch": "得分与复算不符", "identity_missing": "身份信息缺失", "identity_inconsistent": "身份信息不一致",
    "mac_missing": "缺少身份签名", "mac_invalid": "身份签名不符", "return_id_unknown": "报表编号未登记",
    "return_id_mismatch": "报表编号不符", "return_id_reused": "报表编号重复", "unsigned_return": "无身份签名",
    "protection_removed": "工作表保护已取消", "metadata_unhidden": "元数据表被取消隐藏",
    "not_recalculated": "未重新计算", "balance_mismatch": "结余不平衡",
    "exceeds_base": "超过基数", "zero_base": "基数为 0 却有支出", "note_missing": "未说明扣分原因",
    "text_mismatch": "文字与表格不符", "not_applicable": "指标不适用", "leased_assets": "有出租资产",
    "target_deviation": "指标值偏离", "text_too_long": "文字超长",
    "projects_exceed_unit": "项目执行数超过项目支出", "projects_missing": "缺少项目支出绩效自评表",
    "cross_check_skipped": "未做跨表核对",
}
FINDING_COLUMNS = ["预算编码", "单位名称", "主管部门", "严重程度", "问题", "位置", "说明", "已说明", "审核说明", "代码"]
SHEETS = ("汇总", "分部门汇总", "指标分析", "审核结果", "财务汇总（万元）", "未报送")  # the tables, in order


def grades_of(t: Template) -> list[str]:
    """The template's grade labels, best first."""
    return [grade for _, grade in t.grade_bands]


def money_of(t: Template) -> dict[str, str]:
    """The district workbook's money columns (Chinese title -> key), from the template's [form.district]."""
    return {t.label(k): k for k in t.form.district_money}


def r2(value: Any) -> float:
    """ROUND(value, 2) as Excel does (half away from zero on the decimal value), as a float."""
    return float(q2(to_decimal(float(value))))


def safe_text(value: Any) -> Any:
    """Neutralise text that a spreadsheet or CSV reader would take as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class FindingSpool:
    """Finding rows of every return, pickled to a temporary file as they stream in (not kept in memory)."""

    def __init__(self) -> None:
        # mutmut: the unnamed temporary file's prefix is never seen (it has no name on POSIX, deleted on close)
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="jixiao-findings-")  # pragma: no mutate
        self.count = 0

    def add(self, row: list[Any]) -> None:
        # mutmut: pickle.load reads any protocol, so the protocol chosen cannot change what comes back
        pickle.dump(row, self._file, protocol=pickle.HIGHEST_PROTOCOL)  # pragma: no mutate
        self.count += 1

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[list[Any]]:
        self._file.seek(0)
        for _ in range(self.count):
            yield pickle.load(self._file)
        self._file.seek(0, 2)

    def frame(self) -> pd.DataFrame:
        """The findings as a DataFrame (for small districts, tests and the pandas user)."""
        return pd.DataFrame(list(self), columns=FINDING_COLUMNS)

    def close(self) -> None:
        self._file.close()


@dataclass
class Tables:
    """The consolidated tables, as DataFrames with Chinese column titles, in sheet order."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    grade_counts: dict[str, int] = field(default_factory=dict)
    score_bins: list[tuple[str, int]] = field(default_factory=list)
    year: int = 0
    region: str = ""
    findings: FindingSpool | None = None
    included: int = 0
    excluded: int = 0
    grades: list[str] = field(default_factory=list)  # the template's grade labels, best first
    money: dict[str, str] = field(default_factory=dict)  # money columns: Chinese title -> key

    def title(self, sheet: str) -> str:
        return f"{self.year}年度{self.region}部门整体支出绩效自评汇总 · {sheet}"


class _Columns:
    """Lean column-wise accumulation of what the tables need of each return."""

    def __init__(self, t: Template):
        self.t = t
        self.text: dict[str, list[str]] = {k: [] for k in ("code", "name", "dept", "grade", "reason")}
        numeric = ["total", "cached_total", "errors", "warnings", *[f"sub_{lv.id}" for lv in t.levels],
                   *[f"score_{i.id}" for i in t.indicators], *[f"na_{i.id}" for i in t.indicators], *t.form.district_money]
        self.num: dict[str, array] = {k: array("d") for k in numeric}

    def add(self, row: dict[str, Any], spool: FindingSpool, labels: dict[str, str]) -> None:
        ret, rep = row["return"], row["report"]
        # mutmut: SEVERITY_ORDER's ranks are 0–2, so any default above them (9, 10) sorts unknown severities last alike
        findings = sorted(rep.get("findings") or [], key=lambda f: SEVERITY_ORDER.get(f["severity"], 9))  # pragma: no mutate
        explanations = ret.get("explanations") or {}
        code, name = str(row["budget_code"]), str(row["unit_name"] or "")
        dept = sys.intern(str(row["parent_dept"] or ""))  # a few hundred departments, shared by many units
        for f in findings:
            spool.add([code, name, dept, SEVERITY_ZH.get(f["severity"], f["severity"]),
                       CODE_ZH.get(f["code"], f["code"]), labels.get(f["where"], f["where"]), f["message"],
                       "是" if f.get("explained") else "",
                       # mutmut: no explanation is keyed "" or "XXXX", so the stand-in key of a finding without a check finds nothing alike
                       f.get("explanation") or explanations.get(f.get("check") or "", ""), f["code"]])  # pragma: no mutate
        errors = [f for f in findings if f["severity"] == "error"]
        reason = ""
        if errors:
            kinds = list(dict.fromkeys(CODE_ZH.get(f["code"], f["code"]) for f in errors))
            reason = f"有 {len(errors)} 个错误（{'、'.join(kinds[:3])}{'等' if len(kinds) > 3 else ''}）"
        for k, v in (("code", code), ("name", name), ("dept", dept), ("grade", sys.intern(rep.get("grade") or "")),
                     ("reason", reason)):
            self.text[k].append(v)
        scores = {i["id"]: i for i in rep.get("indicators") or []}
        subtotals = rep.get("subtotals") or {}
        computed = rep.get("computed") or {}
        inputs = ret.get("inputs") or {}
        put = self._put
        put("total", rep.get("total"))
        put("cached_total", rep.get("cached_total"))
        put("errors", rep.get("errors", len(errors)))
        put("warnings", rep.get("warnings", 0))
        for lv in self.t.levels:
            put(f"sub_{lv.id}", subtotals.get(lv.id))
        for ind in self.t.indicators:
            put(f"score_{ind.id}", scores.get(ind.id, {}).get("score"))
            put(f"na_{ind.id}", 1.0 if scores.get(ind.id, {}).get("not_applicable") else 0.0)
        for key in self.t.form.district_money:
            put(key, computed.get(key, inputs.get(key)))

    def _put(self, key: str, value: Any) -> None:
        try:
            number = float(value) if value is not None and not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            number = math.nan
        self.num[key].append(number)

    def frame(self) -> pd.DataFrame:
        import numpy as np

        data: dict[str, Any] = {k: v for k, v in self.text.items()}
        # mutmut: frombuffer's default dtype is float64 and an empty buffer gives the same empty array as np.zeros(0)
        data.update({k: np.frombuffer(v, dtype="float64") if len(v) else np.zeros(0) for k, v in self.num.items()})  # pragma: no mutate
        return pd.DataFrame(data)


def _where_labels(t: Template) -> dict[str, str]:
    """Finding location (input key, indicator id, check id) -> its Chinese label."""
    from .checks import build_checks

    out = {k: spec.label for k, spec in t.inputs.items()}
    out.update({k: c.label for k, c in t.computed.items()})
    out.update({ind.id: ind.name for ind in t.indicators})
    out.update({c.id: c.label for c in build_checks(t)})
    return out


def build_tables(rows: Iterable[dict[str, Any]], year: int, roster: list[Unit] | None = None,
                 template: Template | None = None, region: str | None = None) -> Tables:
    """Every table of the district workbook from the store's current rows (Store.iter_current).

    Rows are consumed one at a time and reduced to lean columns; findings go to a spool file.
    """
    t = template or default_template()
    spool = FindingSpool()
    cols = _Columns(t)
    labels = _where_labels(t)
    for row in rows:
        cols.add(row, spool, labels)
    df = cols.frame()
    del cols
    titles = indicator_columns(t)
    # an empty district (no rows) still has every column, so the statements below need no guard for it
    ok = df["errors"] == 0
    good = df[ok]
    out = Tables(year=year, region=region or t.region, findings=spool, included=int(ok.sum()),
                 excluded=int((~ok).sum()), grades=grades_of(t), money=money_of(t))
    grades, money = out.grades, out.money

    # 汇总: ranked returns first, then the excluded ones -----------------
    summary = pd.DataFrame({
        "预算编码": df["code"], "单位名称": df["name"], "主管部门": df["dept"],
        "计入排名": [INCLUDED if e == 0 else EXCLUDED for e in df["errors"]],
        "总分": df["total"], "等次": df["grade"],
        "排名": good["total"].rank(ascending=False, method="min").reindex(df.index),
        "单位自报总分": df["cached_total"], "错误": df["errors"], "警告": df["warnings"],
        "不计入原因": df["reason"],
        **{f"{lv.name}小计": df[f"sub_{lv.id}"] for lv in t.levels},
        **{titles[ind.id]: df[f"score_{ind.id}"] for ind in t.indicators},
    })
    if len(summary):
        # mutmut: `summary["_excluded"] = None` survives and is equivalent — excluded returns have no rank (NaN), which
        # sorts last anyway; the line is not marked because `!= EXCLUDED` on it is killed.
        summary["_excluded"] = summary["计入排名"] == EXCLUDED
        summary = summary.sort_values(["_excluded", "排名", "预算编码"]).drop(columns="_excluded").reset_index(drop=True)
    out.frames["汇总"] = summary

    # 分部门汇总 (accepted returns only) --------------------------------
    dept_rows = []
    if len(df):
        depts = df["dept"].replace("", "（未填主管部门）")
        for dept in sorted(depts.unique()):
            mask = depts == dept
            dept_rows.append(_dept_row(str(dept), df[mask & ok], int((mask & ~ok).sum()), grades))
        dept_rows.append(_dept_row(f"全区合计（{year}年度）", good, out.excluded, grades))
    out.frames["分部门汇总"] = pd.DataFrame(dept_rows, columns=["主管部门", "计入单位数", *grades, "平均分", "最低分",
                                                            "最高分", "不计入单位数"])

    # 指标分析 (accepted returns only) ----------------------------------
    ind_rows = []
    for ind in t.indicators:
        s = good[f"score_{ind.id}"]
        n = len(s)
        ind_rows.append({
            "一级指标": t.level(ind.level).name, "二级指标": t.group(ind.group).name, "三级指标": titles[ind.id],
            "分值": float(ind.max), "平均得分": r2(s.mean()) if n else None,
            "最低": float(s.min()) if n else None, "最高": float(s.max()) if n else None,
            "满分占比": float((s >= float(ind.max)).mean()) if n else None,
            "不适用占比": float(q2(to_decimal(float(good[f"na_{ind.id}"].mean())) * 100) / 100) if n else None,
        })
    out.frames["指标分析"] = pd.DataFrame(ind_rows)

    # 财务汇总 (accepted returns only) ----------------------------------
    fin_rows = []  # pandas' sum skips blanks (NaN), and a column of blanks sums to 0.0
    if len(good):
        depts = good["dept"].replace("", "（未填主管部门）")
        for dept in sorted(depts.unique()):
            g = good[depts == dept]
            fin_rows.append({"主管部门": str(dept), "单位数": len(g), **{zh: r2(g[k].sum()) for zh, k in money.items()}})
        fin_rows.append({"主管部门": f"全区合计（{year}年度）", "单位数": len(good),
                         **{zh: r2(good[k].sum()) for zh, k in money.items()}})
    out.frames["财务汇总（万元）"] = pd.DataFrame(fin_rows, columns=["主管部门", "单位数", *money])

    # 未报送 -------------------------------------------------------------
    if roster is not None:
        got = set(df["code"])
        missing = [{"预算编码": u.budget_code, "单位名称": u.unit_name, "主管部门": u.parent_dept or ""}
                   for u in roster if u.budget_code not in got]
        out.frames["未报送"] = pd.DataFrame(missing, columns=["预算编码", "单位名称", "主管部门"])
    else:
        out.frames["未报送"] = pd.DataFrame([{"说明": "未提供花名册（--roster），无法列出未报送单位"}])

    out.grade_counts = {g: int((good["grade"] == g).sum()) for g in grades}
    bins = [("<60", 0, 60), ("60–70", 60, 70), ("70–80", 70, 80), ("80–90", 80, 90), ("90–95", 90, 95),
            ("95–100", 95, 100.01)]
    totals = good["total"]
    out.score_bins = [(label, int(((totals >= lo) & (totals < hi)).sum())) for label, lo, hi in bins]
    return out


def _dept_row(name: str, g: pd.DataFrame, excluded: int, grades: list[str]) -> dict[str, Any]:
    totals = g["total"]
    n = len(g)
    return {"主管部门": name, "计入单位数": n, **{gr: int((g["grade"] == gr).sum()) for gr in grades},
            "平均分": r2(float(totals.mean())) if n else None, "最低分": float(totals.min()) if n else None,
            "最高分": float(totals.max()) if n else None, "不计入单位数": excluded}


# ---------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------

TEXT_COLUMNS = {"预算编码", "单位名称", "主管部门", "说明", "审核说明", "位置", "问题", "代码", "严重程度", "已说明", "等次",
                "一级指标", "二级指标", "三级指标", "计入排名", "不计入原因"}
INT_COLUMNS = {"错误", "警告", "排名", "单位数", "计入单位数", "不计入单位数"}  # and the grade columns
WIDTHS = {"预算编码": 10, "单位名称": 30, "主管部门": 24, "说明": 60, "审核说明": 30, "位置": 22, "问题": 14,
          "代码": 15, "严重程度": 8, "已说明": 6, "三级指标": 40, "一级指标": 8, "二级指标": 10, "不计入原因": 30,
          "计入排名": 8, "等次": 6, "排名": 6, "错误": 6, "警告": 6, "计入单位数": 7, "不计入单位数": 7, "单位数": 7}
MONEY_WIDTH = 14
HEADER_ROWS = 2  # title, column headers
# Above this many rows the workbook streams to disk (xlsxwriter's constant-memory mode: rows written in order,
# strings inline).  Below it, strings are shared, as Excel itself writes them (no rewrite on Excel's first save).
STREAM_ROWS = 20_000
PRINTABLE_PX = {True: 1026.0, False: 697.0}  # A4 width less 0.5" margins, in pixels, landscape / portrait


def _width(col: str, f: dict | None = None) -> float:
    if f is not None and col in f["money_cols"]:
        return MONEY_WIDTH
    # mutmut: 总分 columns exist only in 汇总, which sets them to width 8 afterwards
    return WIDTHS.get(col, 9 if col not in ("总分", "单位自报总分") else 8)  # pragma: no mutate


def _print_setup(ws, widths: list[float], title_rows: int = HEADER_ROWS, repeat_cols: int | None = None) -> None:
    """A4, landscape when wide, header rows repeated, a scale at which the columns fit the page width."""
    pixels = sum(int(w * 7 + 0.5) + 5 for w in widths)
    landscape = pixels > PRINTABLE_PX[False]
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    scale = min(100, int(PRINTABLE_PX[landscape] * 0.95 / pixels * 100))
    if scale < 55 and repeat_cols is not None:  # too wide: print in strips with the unit columns repeated
        scale = 55
        ws.repeat_columns(0, repeat_cols)
    ws.set_print_scale(max(scale, 10))
    ws.repeat_rows(title_rows - 1)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _formats(wb, tables: Tables | None = None) -> dict[str, Any]:
    # mutmut: xlsxwriter writes colours and alignments the same in any letter case, so the lines with them are
    # marked; every format is pinned by tests/reference/district.xlsx (tests/test_district_reference.py)
    base = {"font_name": "宋体", "valign": "vcenter"}  # pragma: no mutate
    box = {**base, "border": 1}
    f = {
        "title": wb.add_format({**base, "bold": True, "font_size": 14, "text_wrap": True, "align": "left"}),  # pragma: no mutate
        "title_line": wb.add_format({**base, "bold": True, "font_size": 14}),
        "note": wb.add_format({**base, "font_color": "#595959"}),
        "head": wb.add_format({**box, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "align": "center"}),  # pragma: no mutate
        "text": wb.add_format({**box, "text_wrap": True}),
        "text_quoted": wb.add_format({**box, "text_wrap": True, "quote_prefix": True}),
        "wrap_quoted": wb.add_format({**box, "text_wrap": True, "quote_prefix": True}),
        "excluded_quoted": wb.add_format({**box, "font_color": "#9C0006", "bg_color": "#FBE5E7", "text_wrap": True,  # pragma: no mutate
                                          "quote_prefix": True}),
        "code": wb.add_format({**box, "font_size": 8, "font_name": "Arial"}),
        "wrap": wb.add_format({**box, "text_wrap": True}),
        "num": wb.add_format({**box, "num_format": "0.00"}),
        "money": wb.add_format({**box, "num_format": "#,##0.00"}),
        "total_money": wb.add_format({**box, "bold": True, "num_format": "#,##0.00", "bg_color": "#F2F2F2"}),  # pragma: no mutate
        "int": wb.add_format({**box, "num_format": "0"}),
        "pct": wb.add_format({**box, "num_format": "0.0%"}),
        "total": wb.add_format({**box, "bold": True, "num_format": "0.00", "bg_color": "#F2F2F2"}),  # pragma: no mutate
        "total_int": wb.add_format({**box, "bold": True, "num_format": "0", "bg_color": "#F2F2F2"}),  # pragma: no mutate
        "total_text": wb.add_format({**box, "bold": True, "bg_color": "#F2F2F2", "text_wrap": True}),  # pragma: no mutate
        "excluded_text": wb.add_format({**box, "font_color": "#9C0006", "bg_color": "#FBE5E7", "text_wrap": True}),  # pragma: no mutate
        "excluded_num": wb.add_format({**box, "num_format": "0.00", "font_color": "#9C0006", "bg_color": "#FBE5E7"}),  # pragma: no mutate
        "excluded_int": wb.add_format({**box, "num_format": "0", "font_color": "#9C0006", "bg_color": "#FBE5E7"}),  # pragma: no mutate
        "section": wb.add_format({**base, "bold": True, "font_color": "#9C0006"}),  # pragma: no mutate
        "bad": wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),  # pragma: no mutate
    }
    grades, money = (tables.grades, tables.money) if tables else ([], {})
    for g, (bg, fg) in zip(grades, GRADE_COLORS + GRADE_COLORS[-1:] * len(grades), strict=False):
        f[g] = wb.add_format({"bg_color": bg, "font_color": fg})
    f["money_cols"], f["int_cols"] = set(money), INT_COLUMNS | set(grades)
    return f


def write_workbook(tables: Tables, path: str | Path) -> Path:
    """Render the tables as the district workbook, with formats, filters, conditional formats and charts."""
    p = Path(path)
    rows = len(tables.frames["汇总"]) + len(tables.findings or [])
    # mutmut: every cell is written with an explicit write_string/number/formula/blank, so these options change nothing
    wb = xlsxwriter.Workbook(p, {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,  # pragma: no mutate
                                 "nan_inf_to_errors": True, "constant_memory": rows > STREAM_ROWS})  # pragma: no mutate
    wb.set_properties({"title": f"{tables.year}年度{tables.region}部门整体支出绩效自评汇总", "author": "jixiao"})
    f = _formats(wb, tables)
    order = ["汇总", "分部门汇总", "指标分析", "审核结果", "财务汇总（万元）", "未报送"]
    for name in order + [n for n in tables.frames if n not in order]:
        if name == "审核结果":
            if tables.findings is not None:
                _write_findings(wb.add_worksheet(name), tables, f)
            continue
        frame = tables.frames[name]
        # mutmut: the sheet names here are far shorter than Excel's 31 characters
        ws = wb.add_worksheet(name[:31])  # pragma: no mutate
        if name == "汇总":
            _write_summary(ws, frame, f, tables)
            continue
        # mutmut: an empty note reads the same as none
        note = None  # pragma: no mutate
        if name == "财务汇总（万元）":
            note = (f"合计 {tables.included} 份没有错误的报表" +
                    (f"；另有 {tables.excluded} 份有错误的报表未计入（见“汇总”表末尾）" if tables.excluded else ""))
        elif name in ("分部门汇总", "指标分析") and tables.excluded:
            note = f"只统计 {tables.included} 份没有错误的报表；{tables.excluded} 份有错误的报表未计入"
        _write_frame(ws, frame, f, tables.title(name), note)
    _charts(wb, tables, f)
    wb.close()
    return p


def _header(ws, columns: list[str], f: dict, title: str, note: str | None = None) -> int:
    """Title (row 0) and column headers; returns the first data row."""
    ws.set_row(0, 44 if note else 24)
    text = f"{title}\n{note}" if note else title
    if len(columns) > 1:
        ws.merge_range(0, 0, 0, len(columns) - 1, text, f["title"])
    else:
        ws.write_string(0, 0, text, f["title"])
    ws.set_row(1, 32)
    for c, col in enumerate(columns):
        ws.write_string(1, c, str(col), f["head"])
        ws.set_column(c, c, _width(str(col), f))
    ws.freeze_panes(HEADER_ROWS, 0)
    return HEADER_ROWS


def _write_frame(ws, frame: pd.DataFrame, f: dict, title: str, note: str | None = None) -> None:
    columns = [str(c) for c in frame.columns]
    first = _header(ws, columns, f, title, note)
    fmts = [_fmt(col, f) for col in columns]
    widths = [_width(c, f) for c in columns]
    # mutmut: index=None is false like False; named tuples unpack like plain ones
    for r, values in enumerate(frame.itertuples(index=False, name=None), start=first):  # pragma: no mutate
        total_row = isinstance(values[0], str) and values[0].startswith("全区合计")
        for c, value in enumerate(values):
            text_fmt, num_fmt, quoted_fmt = fmts[c]
            if total_row:
                text_fmt, num_fmt = f["total_text"], {id(f["int"]): f["total_int"], id(f["money"]): f["total_money"]}.get(
                    id(num_fmt), f["total"])
            _cell(ws, r, c, value, text_fmt, num_fmt, quoted_fmt)
        _fit_row(ws, r, values, widths)
    if len(frame):
        ws.autofilter(1, 0, first + len(frame) - 1, len(columns) - 1)
    _print_setup(ws, widths)


def _fmt(col: str, f: dict) -> tuple[Any, Any, Any]:
    """(text, number, quote-prefixed text) formats of a column."""
    num = f["pct"] if col.endswith("占比") else (f["int"] if col in f["int_cols"] else f["num"])
    if col in f["money_cols"]:
        num = f["money"]
    if col == "代码":
        return f["code"], num, f["code"]
    # mutmut: wrap and text are the same format (text_wrap), so the choice between them cannot show
    if col in ("说明", "审核说明", "不计入原因"):  # pragma: no mutate
        return f["wrap"], num, f["wrap_quoted"]
    return f["text"], num, f["text_quoted"]


# mutmut: a wrapped row is at least one 16-pt line + 5 = 21 pt, above the minimum (18 here, 20 by default)
def _fit_row(ws, r: int, values: Iterable[Any], widths: list[float], minimum: float = 18.0) -> None:  # pragma: no mutate
    """A row tall enough for its wrapped text (spreadsheet programs do not auto-fit rows written by a library)."""
    from .form.textfit import row_height

    # mutmut: values and widths always have the same length, so zip's strictness cannot matter
    pairs = [(v, w) for v, w in zip(values, widths, strict=False) if isinstance(v, str) and len(v) * 2 > w - 2]  # pragma: no mutate
    if pairs:
        ws.set_row(r, row_height(pairs, minimum))  # pragma: no mutate


def _cell(ws, r: int, c: int, value: Any, text_fmt, num_fmt, quoted_fmt=None) -> None:
    if value is None or (isinstance(value, float) and value != value):
        ws.write_blank(r, c, None, text_fmt)
    elif isinstance(value, bool):
        ws.write_string(r, c, "是" if value else "否", text_fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(r, c, value, num_fmt)
    elif str(value).startswith(FORMULA_TRIGGERS):
        ws.write_string(r, c, str(value), quoted_fmt or text_fmt)  # quote prefix: shown as typed, never a formula
    else:
        ws.write_string(r, c, str(value), text_fmt)


def _write_summary(ws, frame: pd.DataFrame, f: dict, tables: Tables) -> None:
    """汇总: ranked returns, the 全区平均 row (averages of scores, totals of counts), then the excluded returns."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    columns = [str(c) for c in frame.columns]
    note = (f"排名、平均和各统计表只计入没有错误的 {tables.included} 份报表"
            + (f"；{tables.excluded} 份有错误的报表列在末尾，不计入" if tables.excluded else ""))
    first = _header(ws, columns, f, tables.title("汇总"), note)
    ws.set_row(1, 60)
    # mutmut: the first four columns (编码, 名称, 部门, 计入排名) all have their own widths
    for c in range(3, len(columns)):  # pragma: no mutate
        if columns[c] not in WIDTHS:
            ws.set_column(c, c, 8)
    ws.freeze_panes(HEADER_ROWS, 3)
    if not len(frame):
        ws.write_string(first, 0, "没有当年的报表", f["text"])
        # mutmut: for the template's columns the 汇总 sheet prints in strips at 55 % whatever these widths
        _print_setup(ws, [_width(c) for c in columns], repeat_cols=2)  # pragma: no mutate
        return
    fmts = [_fmt(col, f) for col in columns]
    widths = [_width(c) if c in WIDTHS else 8 for c in columns]  # pragma: no mutate
    included = int((frame["计入排名"] == INCLUDED).sum())
    r = first
    # mutmut: index=None is false like False; named tuples unpack like plain ones
    rows = frame.itertuples(index=False, name=None)  # pragma: no mutate
    for _ in range(included):
        values = next(rows)
        for c, value in enumerate(values):
            _cell(ws, r, c, value, *fmts[c])
        _fit_row(ws, r, values, widths)
        r += 1
    last_included = r - 1
    # 全区平均: averages of scores over the ranked returns; 错误/警告 are totals (integers), labelled as such
    ws.write_string(r, 0, "全区平均", f["total_text"])
    ws.write_string(r, 1, f"{tables.year}年度 计入 {included} 个单位（错误、警告两列为合计）", f["total_text"])
    for c, col in enumerate(columns):
        if c < 2:
            continue
        if c < 4 or col in ("等次", "排名", "不计入原因") or included == 0:
            ws.write_blank(r, c, None, f["total_text"])
            continue
        top, end = xl_rowcol_to_cell(first, c), xl_rowcol_to_cell(last_included, c)
        # mutmut: the averaged columns are numbers already (NaN when blank), so coercion changes nothing
        values = pd.to_numeric(frame[col].iloc[:included], errors="coerce")  # pragma: no mutate
        if col in ("错误", "警告"):
            ws.write_formula(r, c, f"=SUM({top}:{end})", f["total_int"], int(values.sum()))
        else:
            ws.write_formula(r, c, f"=ROUND(AVERAGE({top}:{end}),2)", f["total"], r2(float(values.mean())))
    ws.set_row(r, 32)
    r += 1
    if included < len(frame):
        r += 1
        ws.write_string(r, 0, f"以下 {len(frame) - included} 份报表有错误，不计入排名、平均和统计（原因见“不计入原因”列）",
                        f["section"])
        r += 1
        ex_fmt = {id(f["text"]): f["excluded_text"], id(f["wrap"]): f["excluded_text"],
                  id(f["num"]): f["excluded_num"], id(f["int"]): f["excluded_int"]}
        for values in rows:
            for c, value in enumerate(values):
                text_fmt, num_fmt, _ = fmts[c]
                # mutmut: every 汇总 column's formats are keys of ex_fmt, so the .get() fallbacks are never used
                _cell(ws, r, c, value, ex_fmt.get(id(text_fmt), text_fmt), ex_fmt.get(id(num_fmt), num_fmt),  # pragma: no mutate
                      f["excluded_quoted"])
            _fit_row(ws, r, values, widths)
            r += 1
    grade_col = columns.index("等次")
    for g in tables.grades:
        ws.conditional_format(first, grade_col, last_included, grade_col,
                              {"type": "cell", "criteria": "==", "value": f'"{g}"', "format": f[g]})
    err = columns.index("错误")
    ws.conditional_format(first, err, r, err, {"type": "cell", "criteria": ">", "value": 0, "format": f["bad"]})
    ws.autofilter(1, 0, max(first, last_included), len(columns) - 1)
    _print_setup(ws, widths, repeat_cols=2)


def _write_findings(ws, tables: Tables, f: dict) -> None:
    """审核结果: Chinese problem names and locations, the message wrapped in a row tall enough for it."""
    columns = FINDING_COLUMNS
    first = _header(ws, columns, f, tables.title("审核结果"), "“代码”列为程序使用的问题代码")
    fmts = [_fmt(col, f) for col in columns]
    widths = [_width(c) for c in columns]
    r = first
    for values in tables.findings or []:
        for c, value in enumerate(values):
            _cell(ws, r, c, value, *fmts[c])
        _fit_row(ws, r, values, widths)
        r += 1
    if r > first:
        ws.autofilter(1, 0, r - 1, len(columns) - 1)
        sev = columns.index("严重程度")
        ws.conditional_format(first, sev, r - 1, sev, {"type": "cell", "criteria": "==", "value": '"错误"',
                                                      "format": f["bad"]})
    _print_setup(ws, widths)


def _charts(wb, tables: Tables, f: dict) -> None:
    ws = wb.add_worksheet("图表")
    ws.write_string(0, 0, tables.title("图表"), f["title_line"])
    ws.write_string(1, 0, f"只统计 {tables.included} 份没有错误的报表", f["note"])
    ws.write_string(2, 0, "评价等次", f["head"])
    ws.write_string(2, 1, "单位数", f["head"])
    for i, g in enumerate(tables.grades, start=3):
        ws.write_string(i, 0, g, f["text"])
        # mutmut: grade_counts always holds every grade, so the .get() default is never used
        ws.write_number(i, 1, tables.grade_counts.get(g, 0), f["int"])  # pragma: no mutate
    top = 30  # the second chart and its data start on the second page
    ws.write_string(top, 0, "总分区间", f["head"])
    ws.write_string(top, 1, "单位数", f["head"])
    for i, (label, count) in enumerate(tables.score_bins, start=top + 1):
        ws.write_string(i, 0, label, f["text"])
        ws.write_number(i, 1, count, f["int"])

    def axis(counts: list[int]) -> dict[str, Any]:
        # mutmut: the [1] only guards an empty list; [2] gives the same step (ceil(2 / 8) = 1)
        step = max(1, math.ceil(max(counts + [1]) / 8))  # pragma: no mutate
        return {"min": 0, "major_unit": step, "num_format": "0", "name": "单位数",
                "max": step * max(1, math.ceil(max(counts + [1]) / step))}

    c1 = wb.add_chart({"type": "column"})
    c1.add_series({"name": "单位数", "categories": ["图表", 3, 0, 6, 0], "values": ["图表", 3, 1, 6, 1],
                   "data_labels": {"value": True, "num_format": "0"},
                   # mutmut: xlsxwriter writes chart colours the same in any letter case
                   "points": [{"fill": {"color": c}} for c in ("#70AD47", "#5B9BD5", "#FFC000", "#FF0000")]})  # pragma: no mutate
    c1.set_title({"name": f"{tables.year}年度{tables.region}各评价等次单位数"})
    c1.set_legend({"none": True})
    c1.set_y_axis(axis(list(tables.grade_counts.values())))
    c1.set_x_axis({"name": "评价等次"})
    ws.insert_chart("D3", c1, {"x_scale": 1.6, "y_scale": 1.5})
    n = len(tables.score_bins)
    c2 = wb.add_chart({"type": "column"})
    c2.add_series({"name": "单位数", "categories": ["图表", top + 1, 0, top + n, 0],
                   "values": ["图表", top + 1, 1, top + n, 1], "data_labels": {"value": True, "num_format": "0"},
                   "gap": 20})
    c2.set_title({"name": f"{tables.year}年度{tables.region}总分分布"})
    c2.set_legend({"none": True})
    c2.set_y_axis(axis([c for _, c in tables.score_bins]))
    c2.set_x_axis({"name": "总分区间"})
    ws.insert_chart(f"D{top + 2}", c2, {"x_scale": 1.6, "y_scale": 1.5})
    ws.set_column(0, 1, 12)
    ws.set_h_pagebreaks([top])
    ws.set_paper(9)
    ws.set_landscape()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.set_footer("&C第 &P 页，共 &N 页")


def write_csvs(tables: Tables, out_dir: str | Path, outputs: Outputs | None = None) -> list[Path]:
    """Each table as UTF-8 CSV with BOM (Excel opens it in Chinese), text escaped."""
    d = prepare_dir(out_dir)
    paths = []
    with nullcontext(outputs) if outputs is not None else Outputs(force=True) as out:
        for name, frame in tables.frames.items():
            escaped = frame.map(safe_text)
            paths.append(out.add(d / f"{name}.csv",
                                 # mutmut: index=None is false like False; encoding names and suffixes are compared in any letter case
                                 lambda tmp, f=escaped: f.to_csv(tmp, index=False, encoding="utf-8-sig"),  # pragma: no mutate
                                 suffixes=(".csv",)))  # pragma: no mutate
        if tables.findings is not None:
            # mutmut: suffixes are compared in lower case
            paths.append(out.add(d / "审核结果.csv", lambda tmp: _write_findings_csv(tables, tmp), suffixes=(".csv",)))  # pragma: no mutate
    return paths


def write_csv_rows(path: Path, columns: Iterable[Any], rows: Iterable[Iterable[Any]]) -> None:
    """A UTF-8 (BOM) CSV of a header and rows, unit text escaped (safe_text)."""
    # mutmut: on POSIX newline=None writes the same bytes; newline="" is what the csv module asks for
    with path.open("w", encoding="utf-8-sig", newline="") as fh:  # pragma: no mutate
        w = csv.writer(fh)
        w.writerow(columns)
        for row in rows:
            w.writerow([safe_text(v) for v in row])


def _write_findings_csv(tables: Tables, path: Path) -> None:
    write_csv_rows(path, FINDING_COLUMNS, tables.findings)


def write_xlsx_file(write: Callable[[Any, Path], Any], tables: Any, tmp: Path) -> None:
    """`write(tables, tmp)` with xlsxwriter's FileCreateError turned back into the OSError it wraps."""
    try:
        write(tables, tmp)
    except xlsxwriter.exceptions.FileCreateError as exc:  # wraps the OSError of the final write
        raise (exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else OSError(str(exc))) from exc


def _write_workbook_file(tables: Tables, tmp: Path) -> None:
    write_xlsx_file(write_workbook, tables, tmp)


def consolidate(store: Store, year: int, out: str | Path, roster: list[Unit] | None = None,
                csv_dir: str | Path | None = None, region: str | None = None, force: bool = False) -> Tables:
    """Build the district workbook (and CSVs) for a year from the store's current returns.

    Every target is checked before anything is written (existing files are refused unless
    `force`), and the workbook and CSVs are renamed into place together at the end.
    """
    # mutmut: check_target compares suffixes in lower case (its force argument is tested)
    check_target(out, (".xlsx",), force)  # pragma: no mutate
    if csv_dir:
        d = prepare_dir(csv_dir)
        for name in SHEETS:
            check_target(d / f"{name}.csv", (".csv",), force)  # pragma: no mutate
    tables = build_tables(store.iter_current(year), year, roster, region=region)
    with Outputs(force=force) as outputs:
        if csv_dir:
            write_csvs(tables, csv_dir, outputs)
        outputs.add(out, lambda tmp: _write_workbook_file(tables, tmp))
    return tables
