"""The consolidated district workbook (xlsxwriter) and CSVs, from the store's current returns.

Text that came from a unit is data: it is always written as a string cell.  Text that starts
with = + - @ (or a tab / carriage return) gets the quote-prefix cell style in the workbook (Excel
shows it as typed and keeps it text when edited) and a leading apostrophe in CSV files, so that
neither Excel nor a CSV reader evaluates it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from .dataframe import indicator_columns, records_to_dataframe
from .generate.api import Unit
from .numbers import q2, to_decimal
from .report import SEVERITY_ORDER, SEVERITY_ZH
from .store import Store
from .template import Template, default_template

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
GRADES = ["优", "良", "中", "差"]


def r2(value: Any) -> float:
    """ROUND(value, 2) as Excel does (half away from zero on the decimal value), as a float."""
    return float(q2(to_decimal(float(value))))


def safe_text(value: Any) -> Any:
    """Neutralise text that a spreadsheet or CSV reader would take as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


@dataclass
class Tables:
    """The consolidated tables, as DataFrames with Chinese column titles, in sheet order."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    grade_counts: dict[str, int] = field(default_factory=dict)
    score_bins: list[tuple[str, int]] = field(default_factory=list)
    year: int = 0


def _compact(row: dict[str, Any], finding_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What the tables need of one stored row; its findings go straight to finding_rows."""
    ret, rep = row["return"], row["report"]
    explanations = ret.get("explanations") or {}
    for f in sorted(rep.get("findings") or [], key=lambda f: SEVERITY_ORDER.get(f["severity"], 9)):
        finding_rows.append({
            "预算编码": row["budget_code"], "单位名称": row["unit_name"], "主管部门": row["parent_dept"],
            "严重程度": SEVERITY_ZH.get(f["severity"], f["severity"]), "规则": f["code"], "位置": f["where"],
            "说明": f["message"], "已说明": "是" if f.get("explained") else "",
            "审核说明": f.get("explanation") or explanations.get(f.get("check") or "", ""),
        })
    record = {k: rep.get(k) for k in ("indicators", "subtotals", "computed", "total", "grade", "cached_total",
                                      "errors", "warnings")}
    record["indicators"] = [{k: i.get(k) for k in ("id", "score", "not_applicable")} for i in rep.get("indicators") or []]
    record["unit"] = ret.get("unit") or {}
    record["exp_project"] = (ret.get("inputs") or {}).get("exp_project") or 0
    return record


def build_tables(rows: Iterable[dict[str, Any]], year: int, roster: list[Unit] | None = None,
                 template: Template | None = None) -> Tables:
    """Every table of the district workbook from the store's current rows (Store.iter_current).

    Rows are consumed one at a time and reduced to what the tables need.
    """
    t = template or default_template()
    finding_rows: list[dict[str, Any]] = []
    records = [_compact(r, finding_rows) for r in rows]
    df = records_to_dataframe(records, t)
    titles = indicator_columns(t)
    out = Tables(year=year)

    # 汇总 -------------------------------------------------------------
    cols: dict[str, Any] = {}
    if len(df):
        cols = {"预算编码": df["budget_code"], "单位名称": df["unit_name"], "主管部门": df["parent_dept"],
                "总分": df["total"], "等次": df["grade"],
                "排名": df["total"].rank(ascending=False, method="min").astype(int),
                "单位自报总分": df["cached_total"], "错误": df["errors"], "警告": df["warnings"]}
        for lv in t.levels:
            cols[f"{lv.name}小计"] = df[f"subtotal_{lv.id}"]
        for ind in t.indicators:
            cols[titles[ind.id]] = df[f"score_{ind.id}"]
    summary = pd.DataFrame(cols)
    if len(summary):
        summary = summary.sort_values(["排名", "预算编码"]).reset_index(drop=True)
    out.frames["汇总"] = summary

    # 分部门汇总 ---------------------------------------------------------
    dept_rows = []
    if len(df):
        for dept, g in sorted(df.groupby(df["parent_dept"].fillna("（未填主管部门）")), key=lambda x: str(x[0])):
            dept_rows.append(_dept_row(str(dept), g))
        dept_rows.append(_dept_row(f"全区合计（{year}年度）", df))
    out.frames["分部门汇总"] = pd.DataFrame(dept_rows, columns=["主管部门", "单位数", *GRADES, "平均分", "最低分", "最高分"])

    # 指标分析 -----------------------------------------------------------
    ind_rows = []
    for ind in t.indicators:
        s = df[f"score_{ind.id}"].astype(float) if len(df) else pd.Series(dtype=float)
        n = len(s)
        ind_rows.append({
            "一级指标": t.level(ind.level).name, "二级指标": t.group(ind.group).name, "三级指标": ind.name,
            "分值": float(ind.max), "平均得分": r2(s.mean()) if n else None,
            "最低": s.min() if n else None, "最高": s.max() if n else None,
            "满分占比": float((s >= float(ind.max)).mean()) if n else None,
            "不适用占比": float(q2(to_decimal(float(df[f"na_{ind.id}"].mean())) * 100) / 100) if n else None,
        })
    out.frames["指标分析"] = pd.DataFrame(ind_rows)

    # 审核结果 -----------------------------------------------------------
    out.frames["审核结果"] = pd.DataFrame(finding_rows, columns=["预算编码", "单位名称", "主管部门", "严重程度", "规则",
                                                                "位置", "说明", "已说明", "审核说明"])

    # 财务汇总 -----------------------------------------------------------
    money = {"收入合计": "income_total", "基本支出": "exp_basic", "项目支出": "exp_project_v", "支出合计": "exp_total",
             "三公经费合计": "sangong_total", "固定资产合计": "assets_total"}
    fin_rows = []
    if len(df):
        df = df.copy()
        df["exp_project_v"] = [r["exp_project"] for r in records]
        for dept, g in sorted(df.groupby(df["parent_dept"].fillna("（未填主管部门）")), key=lambda x: str(x[0])):
            fin_rows.append({"主管部门": str(dept), "单位数": len(g),
                             **{zh: r2(pd.to_numeric(g[k], errors="coerce").fillna(0).sum())
                                for zh, k in money.items()}})
        fin_rows.append({"主管部门": f"全区合计（{year}年度）", "单位数": len(df),
                         **{zh: r2(pd.to_numeric(df[k], errors="coerce").fillna(0).sum())
                            for zh, k in money.items()}})
    out.frames["财务汇总（万元）"] = pd.DataFrame(fin_rows, columns=["主管部门", "单位数", *money])

    # 未报送 -------------------------------------------------------------
    if roster is not None:
        got = {str(r["unit"].get("budget_code")) for r in records}
        missing = [{"预算编码": u.budget_code, "单位名称": u.unit_name, "主管部门": u.parent_dept or ""}
                   for u in roster if u.budget_code not in got]
        out.frames["未报送"] = pd.DataFrame(missing, columns=["预算编码", "单位名称", "主管部门"])
    else:
        out.frames["未报送"] = pd.DataFrame([{"说明": "未提供花名册（--roster），无法列出未报送单位"}])

    out.grade_counts = {g: int((df["grade"] == g).sum()) if len(df) else 0 for g in GRADES}
    bins = [("<60", 0, 60), ("60–70", 60, 70), ("70–80", 70, 80), ("80–90", 80, 90), ("90–95", 90, 95),
            ("95–100", 95, 100.01)]
    totals = df["total"].astype(float) if len(df) else pd.Series(dtype=float)
    out.score_bins = [(label, int(((totals >= lo) & (totals < hi)).sum())) for label, lo, hi in bins]
    return out


def _dept_row(name: str, g: pd.DataFrame) -> dict[str, Any]:
    totals = g["total"].astype(float)
    return {"主管部门": name, "单位数": len(g), **{gr: int((g["grade"] == gr).sum()) for gr in GRADES},
            "平均分": r2(float(totals.mean())), "最低分": float(totals.min()), "最高分": float(totals.max())}


# ---------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------

TEXT_COLUMNS = {"预算编码", "单位名称", "主管部门", "说明", "审核说明", "位置", "规则", "严重程度", "已说明", "等次",
                "一级指标", "二级指标", "三级指标"}


def write_workbook(tables: Tables, path: str | Path) -> Path:
    """Render the tables as the district workbook, with formats, filters, conditional formats and charts."""
    p = Path(path)
    wb = xlsxwriter.Workbook(p, {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                                 "nan_inf_to_errors": True})
    wb.set_properties({"title": f"{tables.year} 年度部门整体支出绩效自评汇总", "author": "jixiao"})
    f = {
        "title": wb.add_format({"bold": True, "font_size": 14, "font_name": "宋体"}),
        "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter",
                               "align": "center", "font_name": "宋体"}),
        "text": wb.add_format({"border": 1, "font_name": "宋体", "valign": "vcenter"}),
        "wrap": wb.add_format({"border": 1, "font_name": "宋体", "text_wrap": True, "valign": "top"}),
        "text_quoted": wb.add_format({"border": 1, "font_name": "宋体", "valign": "vcenter", "quote_prefix": True}),
        "wrap_quoted": wb.add_format({"border": 1, "font_name": "宋体", "text_wrap": True, "valign": "top",
                                      "quote_prefix": True}),
        "num": wb.add_format({"border": 1, "num_format": "0.00", "font_name": "宋体"}),
        "int": wb.add_format({"border": 1, "num_format": "0", "font_name": "宋体"}),
        "pct": wb.add_format({"border": 1, "num_format": "0.0%", "font_name": "宋体"}),
        "total": wb.add_format({"bold": True, "border": 1, "num_format": "0.00", "bg_color": "#F2F2F2", "font_name": "宋体"}),
        "total_text": wb.add_format({"bold": True, "border": 1, "bg_color": "#F2F2F2", "font_name": "宋体"}),
        "优": wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"}),
        "良": wb.add_format({"bg_color": "#DDEBF7", "font_color": "#1F4E78"}),
        "中": wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"}),
        "差": wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
        "bad": wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
    }
    for name, frame in tables.frames.items():
        ws = wb.add_worksheet(name[:31])
        _write_frame(ws, frame, f, name)
        if name == "汇总":
            _decorate_summary(ws, frame, f, tables.year)
        if name == "审核结果" and len(frame):
            ws.conditional_format(1, 3, len(frame), 3, {"type": "cell", "criteria": "==", "value": '"错误"',
                                                        "format": f["bad"]})
    _charts(wb, tables, f)
    wb.close()
    return p


def _write_frame(ws, frame: pd.DataFrame, f: dict, name: str) -> None:
    ws.freeze_panes(1, 0)
    ws.set_row(0, 32)
    for c, col in enumerate(frame.columns):
        ws.write_string(0, c, str(col), f["head"])
        width = 12 if col not in ("单位名称", "说明", "审核说明") else (60 if col == "说明" else 30)
        if col in ("主管部门",):
            width = 24
        ws.set_column(c, c, width)
        fmt = f["pct"] if col.endswith("占比") else f["num"]
        if col in ("错误", "警告", "排名", "单位数", *GRADES):
            fmt = f["int"]
        wrap = col in ("说明", "审核说明")
        text_fmt, quoted_fmt = (f["wrap"], f["wrap_quoted"]) if wrap else (f["text"], f["text_quoted"])
        for r, value in enumerate(frame[col].tolist(), start=1):
            _cell(ws, r, c, value, text_fmt, fmt, quoted_fmt)
    if len(frame):
        ws.autofilter(0, 0, len(frame), len(frame.columns) - 1)


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


def _decorate_summary(ws, frame: pd.DataFrame, f: dict, year: int) -> None:
    if not len(frame):
        ws.write_string(1, 0, "没有当年的报表", f["text"])
        return
    from xlsxwriter.utility import xl_rowcol_to_cell

    n = len(frame)
    last = n  # data rows 1..n
    row = n + 1
    ws.write_string(row, 0, "全区平均", f["total_text"])
    ws.write_string(row, 1, f"{year}年度 共 {n} 个单位", f["total_text"])
    ws.write_string(row, 2, "", f["total_text"])
    for c, col in enumerate(frame.columns):
        if c < 3 or col in ("等次", "排名"):
            if c >= 3:
                ws.write_string(row, c, "", f["total_text"])
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        cached = float(values.sum()) if col in ("错误", "警告") else r2(float(values.mean()))
        first, end = xl_rowcol_to_cell(1, c), xl_rowcol_to_cell(last, c)
        formula = f"=SUM({first}:{end})" if col in ("错误", "警告") else f"=ROUND(AVERAGE({first}:{end}),2)"
        ws.write_formula(row, c, formula, f["total"], cached)
    grade_col = list(frame.columns).index("等次")
    for g in GRADES:
        ws.conditional_format(1, grade_col, last, grade_col, {"type": "cell", "criteria": "==", "value": f'"{g}"',
                                                              "format": f[g]})
    for col in ("错误",):
        c = list(frame.columns).index(col)
        ws.conditional_format(1, c, last, c, {"type": "cell", "criteria": ">", "value": 0, "format": f["bad"]})
    ws.set_column(3, len(frame.columns) - 1, 9)
    ws.set_column(1, 1, 30)
    ws.set_row(0, 60)
    ws.freeze_panes(1, 3)
    ws.set_landscape()
    ws.set_paper(8)  # A3: 36 columns
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)


def _charts(wb, tables: Tables, f: dict) -> None:
    ws = wb.add_worksheet("图表")
    ws.write_string(0, 0, "评价等次", f["head"])
    ws.write_string(0, 1, "单位数", f["head"])
    for i, g in enumerate(GRADES, start=1):
        ws.write_string(i, 0, g, f["text"])
        ws.write_number(i, 1, tables.grade_counts.get(g, 0), f["int"])
    ws.write_string(6, 0, "总分区间", f["head"])
    ws.write_string(6, 1, "单位数", f["head"])
    for i, (label, count) in enumerate(tables.score_bins, start=7):
        ws.write_string(i, 0, label, f["text"])
        ws.write_number(i, 1, count, f["int"])
    c1 = wb.add_chart({"type": "column"})
    c1.add_series({"name": "单位数", "categories": ["图表", 1, 0, 4, 0], "values": ["图表", 1, 1, 4, 1],
                   "data_labels": {"value": True}, "points": [{"fill": {"color": c}} for c in
                                                               ("#70AD47", "#5B9BD5", "#FFC000", "#FF0000")]})
    c1.set_title({"name": f"{tables.year} 年度各评价等次单位数"})
    c1.set_legend({"none": True})
    ws.insert_chart("D1", c1, {"x_scale": 1.2, "y_scale": 1.0})
    c2 = wb.add_chart({"type": "column"})
    c2.add_series({"name": "单位数", "categories": ["图表", 7, 0, 6 + len(tables.score_bins), 0],
                   "values": ["图表", 7, 1, 6 + len(tables.score_bins), 1], "data_labels": {"value": True},
                   "gap": 20})
    c2.set_title({"name": "总分分布"})
    c2.set_legend({"none": True})
    ws.insert_chart("D17", c2, {"x_scale": 1.2, "y_scale": 1.0})
    ws.set_column(0, 1, 12)


def write_csvs(tables: Tables, out_dir: str | Path) -> list[Path]:
    """Each table as UTF-8 CSV with BOM (Excel opens it in Chinese), text escaped."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.frames.items():
        p = d / f"{name}.csv"
        frame.map(safe_text).to_csv(p, index=False, encoding="utf-8-sig")
        paths.append(p)
    return paths


def consolidate(store: Store, year: int, out: str | Path, roster: list[Unit] | None = None,
                csv_dir: str | Path | None = None) -> Tables:
    """Build the district workbook (and CSVs) for a year from the store's current returns."""
    tables = build_tables(store.iter_current(year), year, roster)
    write_workbook(tables, out)
    if csv_dir:
        write_csvs(tables, csv_dir)
    return tables

