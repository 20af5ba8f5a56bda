"""The workbook plan of a row form (附件3-1): one form sheet and the hidden metadata sheet.

Inputs are named by their key (identity, funds cells, `ind_<level>_<n>_<column>` per row, texts);
each used row's score, the funds score, the level subtotals, the total and the grade are formulas
from workbook.rowrules with the engine's values cached.  Built from the template alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..numbers import excel_number
from ..rowrules import funds_formula, row_formula
from .layout import META, META_KEYS, Cell, Ctx, Merge, SheetPlan, WorkbookPlan, text_validation
from .refs import absolute
from .rowform import RowForm
from .textfit import page_breaks, printable_height

ROW_META_KEYS = [*META_KEYS, "project_name", "project_code"]


@dataclass
class RowCtx(Ctx):
    """A cached value's sources for a row form: raw inputs, the engine's report and the form's 审核 rows."""

    form: Any = None
    _audit: dict[str, tuple[str, str]] = field(default_factory=dict)

    def audit(self, check: Any) -> tuple[str, str]:
        """(status, message) the check's 审核 row shows."""
        if check.id not in self._audit:
            self._audit[check.id] = check.evaluate(self.report, self.raw)
        return self._audit[check.id]

    @property
    def report_form(self) -> Any:
        return self.form

    def shown_result(self) -> tuple[Any, str]:
        from ..rowchecks import shown_result

        return shown_result(self.form, self.report)


def _display(report: Any, rid: str) -> Any:
    found = [r for r in report.indicators if r.id == rid]
    return found[0].display if found else ""


def funds_bad_expr(form: RowForm) -> str:
    """OR(...) true when a funds cell that scores (budget and executed columns) holds text or a negative
    amount (the engine's invalid_input there; a bad 年初预算数 is reported but does not stop the score)."""
    cells = scoring_funds_keys(form)
    return ("OR(" + ",".join(f'AND(TRIM({k})<>"",NOT(ISNUMBER({k})))' for k in cells) + "," +
            ",".join(f"SUM({k})<0" for k in cells) + ")")


def scoring_funds_keys(form: RowForm) -> list[str]:
    f = form.funds
    return [f.key(r.key, c) for r in f.rows for c in (f.budget_column, f.executed_column)]


def grade_formula(form: RowForm, total: str) -> str:
    bands = sorted(form.grade_bands, key=lambda b: b[0], reverse=True)
    out = f'"{bands[-1][1]}"'
    for minimum, grade in reversed(bands[:-1]):
        out = f'IF({total}>={excel_number(minimum)},"{grade}",{out})'
    return "=" + out


def _unless_incomplete(form: RowForm, formula: str) -> str:
    """=IF(audit_<complete>="未完成","未完成",…): no total or grade that looks like a result while rows are open."""
    from ..rowchecks import INCOMPLETE, complete_check

    check = complete_check(form)
    if check is None:
        return formula
    return f'=IF({check.status_name}="{INCOMPLETE}","{INCOMPLETE}",{formula[1:]})'


def cap_formula(form: RowForm, uncapped: str, rate: str) -> str:
    """The capped total (form-3-1.md default 7); the uncapped total when the option is off."""
    if not form.params.cap_bands:
        return f"={uncapped}"
    inner = uncapped
    for edge, cap in sorted(form.params.cap_bands, key=lambda b: b[0]):
        value = uncapped if cap is None else f"MIN({uncapped},{excel_number(cap)})"
        inner = f"IF({rate}>={excel_number(edge)},{value},{inner})"
    return f'=IF({rate}="",{uncapped},{inner})'


class RowPlanBuilder:
    def __init__(self, form: RowForm, locked_identity: bool = True, bureau: str | None = None):
        self.f = form
        self.locked = locked_identity
        self.bureau = bureau or f"{form.region}财政局"
        self.names: dict[str, tuple[str, int, int]] = {}
        self.ranges: dict[str, tuple[str, int, int, int, int]] = {}
        self.sheet_name = form.title
        self.blocks: list[tuple[int, int]] = []  # rows kept together on one printed page

    def _input(self, s: SheetPlan, row: int, col: int, key: str, label: str, style: str = "input",
               identity: bool = False) -> None:
        if identity and self.locked:
            style = "identity"
        s.add(Cell(row, col, "input", None, style, name=key, key=key, validation=text_validation(label, f"请填写{label}。")))
        self.names[key] = (s.name, row, col)

    def _formula(self, s: SheetPlan, row: int, col: int, name: str, formula: str, cached, style: str = "score"):
        s.add(Cell(row, col, "formula", formula, style, name=name, cached=cached))
        self.names[name] = (s.name, row, col)

    def build(self) -> WorkbookPlan:
        f = self.f
        last = 1 + len(f.row_columns)  # the score column, the table's last
        s = SheetPlan(self.sheet_name, widths=dict(enumerate([20, 20, 11, 11, 11, 11, 8, 28, 9])), landscape=True)
        s.title(f"{f.form_title}", last)
        row = 2
        for fld in (*f.identity, *f.header):
            s.label(row, 0, fld.label)
            ident = fld in f.identity
            self._input(s, row, 1, fld.key, fld.label, identity=ident)
            s.merges.append(Merge(row, 1, row, 4, "", s.cells[-1].style if ident and self.locked else "input_span"))
            row += 1
        row += 1
        c0 = 2  # the funds table's first money column (labels span A:B)
        s.merges.append(Merge(row, 0, row, c0 - 1, f.funds.label, "header"))
        for j, col in enumerate(f.funds.columns):
            s.label(row, c0 + j, col.label, "header")
        ncol = len(f.funds.columns)
        for j, word in enumerate(("分值", "执行率（%）", "得分")):
            s.label(row, c0 + ncol + j, word, "header")
        s.heights[row] = 32
        total_row = row + 1
        s.merges.append(Merge(total_row, 0, total_row, c0 - 1, f.funds.total.label, "label"))
        for i, r in enumerate(f.funds.rows, start=1):
            s.merges.append(Merge(total_row + i, 0, total_row + i, c0 - 1, r.label, "label"))
            for j, col in enumerate(f.funds.columns):
                key = f.funds.key(r.key, col.key)
                s.add(Cell(total_row + i, c0 + j, "input", None, "input_money", name=key, key=key,
                           validation=_money_validation(col.label)))
                self.names[key] = (s.name, total_row + i, c0 + j)
        for j, col in enumerate(f.funds.columns):
            keys = [f.funds.key(r.key, col.key) for r in f.funds.rows]
            name = f"funds_total_{col.key}"
            self._formula(s, total_row, c0 + j, name, "=SUM(" + ",".join(keys) + ")",
                          lambda c, n=name: c.report.computed[n], "formula_money")
        s.label(total_row, c0 + ncol, float(f.params.funds_points), "points")
        bad = funds_bad_expr(f)
        b, e = f"funds_total_{f.funds.budget_column}", f"funds_total_{f.funds.executed_column}"
        self._formula(s, total_row, c0 + ncol + 1, "funds_rate", f'=IF(OR({bad},{b}=0),"",ROUND(100*{e}/{b},2))',
                      lambda c: c.report.computed.get("funds_rate", ""), "formula_money")
        self._formula(s, total_row, c0 + ncol + 2, "score_funds",
                      f'=IF({bad},"无效",{funds_formula(b, e, f.params)[1:]})', lambda c: _display(c.report, "funds"))
        row = total_row + len(f.funds.rows) + 1
        s.label(row, 0, "偏差原因")
        self._input(s, row, 1, f.funds.reason_key, "偏差原因", "input_long")
        s.cells[-1].validation = text_validation("偏差原因", f"执行率低于 {excel_number(f.params.reason_below_pct)}% 时必须填写。")
        s.merges.append(Merge(row, 1, row, last, "", "input_span"))
        s.heights[row] = 36
        row += 2
        for fld in f.goals:
            s.label(row, 0, fld.label)
            self._input(s, row, 1, fld.key, fld.label, "input_long")
            s.merges.append(Merge(row, 1, row, last, "", "input_span"))
            s.heights[row] = 52
            row += 1
        row += 1
        level_names = []
        for lv in f.levels:  # each level a table of its own with its header row (kept on one printed page)
            s.label(row, 0, f"{lv.name}（{excel_number(lv.points)}分）", "header")
            for j, c in enumerate(f.row_columns):
                s.label(row, 1 + j, c.label, "header")
            s.label(row, 1 + len(f.row_columns), "得分", "header")
            s.heights[row] = 32
            row += 1
            first = row
            for rid in lv.row_ids():
                s.label(row, 0, lv.name, "label")
                for j, c in enumerate(f.row_columns):
                    key = f.row_key(rid, c.key)
                    style = "input_money" if c.key in ("points",) else "input"
                    self._input(s, row, 1 + j, key, c.label, style)
                    s.cells[-1].validation = self._row_validation(c.key, c.label, lv)
                k = {c: f.row_key(rid, c) for c in ("name", "nature", "target", "actual", "points")}
                self._formula(s, row, 1 + len(f.row_columns), f"score_{rid}",
                              row_formula(k["name"], k["nature"], k["target"], k["actual"], k["points"], f.params),
                              lambda c, r=rid: _display(c.report, r))
                row += 1
            score_col = 1 + len(f.row_columns)
            s.label(row, 0, f"{lv.name}小计", "header")
            name = f"subtotal_{lv.id}"
            rng = absolute(s.name, first, score_col, row - 1, score_col)[1:]
            self.ranges[f"scores_{lv.id}"] = (s.name, first, score_col, row - 1, score_col)
            self.blocks.append((first - 1, row))
            self._formula(s, row, score_col, name, f"=ROUND(SUM({rng}),2)",
                          lambda c, i=lv.id: c.report.subtotals[i])
            level_names.append(name)
            row += 2
        uncapped = "ROUND(SUM(" + ",".join(["score_funds", *level_names]) + "),2)"
        s.label(row, 0, "总分", "header")
        helper = last + 1  # a hidden helper column right of the table: the total before any cap
        self._formula(s, row, helper, "total_uncapped", "=" + uncapped, lambda c: c.report.computed["total_uncapped"],
                      "plain")
        s.hidden_cols.add(helper)
        self._formula(s, row, 1, "total_score", _unless_incomplete(f, cap_formula(f, "total_uncapped", "funds_rate")),
                      lambda c: c.shown_result()[0], "score_total")
        s.label(row + 1, 0, "评价等次", "header")
        self._formula(s, row + 1, 1, "grade", _unless_incomplete(f, grade_formula(f, "total_score")),
                      lambda c: c.shown_result()[1], "grade")
        end = row + 1
        row += 3
        for fld in f.texts:
            s.label(row, 0, fld.label)
            self._input(s, row, 1, fld.key, fld.label, "input_long")
            s.cells[-1].validation = text_validation(
                fld.label, f"不超过 {f.params.text_limit} 字（超过时审核表提示）；单元格内换行按 Alt+Enter。")
            s.merges.append(Merge(row, 1, row, last, "", "input_span"))
            s.heights[row] = 52
            row += 1
        self.blocks.append((end - 1, row - 1))
        self._breaks(s, row - 1)
        sheets = [self.guide(), s, self.audit(), self.meta()]
        for sheet in sheets:
            for r in [m.r1 for m in sheet.merges if m.style == "title"]:
                sheet.heights[r] = max(sheet.heights.get(r, 0), 30)
        return WorkbookPlan(f, sheets, self.names, self.ranges, self.locked, self.bureau)  # type: ignore[arg-type]

    def _row_validation(self, column: str, label: str, lv: Any) -> dict[str, Any]:
        p = self.f.params
        if column == "nature":
            return {"validate": "list", "source": list(p.natures), "input_title": label[:32],
                    "input_message": "从下拉列表选择：≥ 越大越好，≤ 越小越好，= 等于指标值，定性 按达成程度计分。",
                    "error_title": "输入有误", "error_message": f"指标性质只能是 {'、'.join(p.natures)} 之一。",
                    "error_type": "stop", "ignore_blank": True}
        if column == "points":
            return {"validate": "decimal", "criteria": "between", "minimum": 0,
                    "maximum": float(lv.points), "input_title": label[:32],
                    "input_message": f"本行分值；{lv.name}各行分值合计应为 {excel_number(lv.points)} 分。",
                    "error_title": "输入有误", "error_message": f"分值应为 0～{excel_number(lv.points)} 之间的数。",
                    "error_type": "stop", "ignore_blank": True}
        if column == "actual":
            words = "、".join(p.qualitative_shares)
            return text_validation(label, f"填数字；定性指标填 {words} 之一。")
        if column == "name":
            return text_validation(label, "填了指标名称，这一行就算已用，须填齐指标性质、指标值、完成值和分值；不用的行留空。")
        if column == "reason":
            return text_validation(label, "得分低于分值时必须填写偏差原因。")
        return text_validation(label, f"请填写{label}。")

    def _breaks(self, s: SheetPlan, last: int) -> None:
        """Page breaks only between the header-and-funds part, the indicator levels and the closing part."""
        for r in range(last + 1):  # every row's height set, so the page arithmetic is what programs print
            s.heights[r] = s.heights.get(r, ROW_POINTS)
        s.heights[0] = max(s.heights[0], 30.0)
        heights = [s.heights[r] for r in range(last + 1)]
        page = printable_height(s.landscape)
        s.breaks = page_breaks(heights, [(0, self.blocks[0][0] - 1), *self.blocks], page, page)

    def guide(self) -> SheetPlan:
        s = SheetPlan(self.f.guide_sheet, widths={0: 88})
        s.label(0, 0, f"{self.f.form_title} — 填报说明", "title")
        s.heights[0] = 30
        from .textfit import row_height

        for row, (kind, text) in enumerate(self.f.guide, start=1):
            s.label(row, 0, text, "heading" if kind == "heading" else "guide")
            s.heights[row] = row_height([(text, 88)]) if kind == "text" else 24
        return s

    def audit(self) -> SheetPlan:
        from ..rowchecks import row_checks, unique_helpers

        f = self.f
        w = {0: 5, 1: 44, 2: 8, 3: 70}
        s = SheetPlan(self.f.audit_sheet, widths=w, freeze=(5, 0), landscape=True, repeat_rows=(4, 4))
        s.title("审核（自动核对，请逐条查看）", 3)
        s.label(1, 1, "总分 / 评价等次", "label")
        s.add(Cell(1, 2, "formula", "=total_score", "formula_money", cached=lambda c: c.shown_result()[0]))
        s.add(Cell(1, 3, "formula", "=grade", "formula_text", cached=lambda c: c.shown_result()[1]))
        s.label(2, 1, "错误 / 未完成 / 警告 条数", "label")
        s.add(Cell(2, 2, "formula", '=COUNTIF(audit_status,"错误")', "formula_center", cached=_count("错误")))
        s.add(Cell(2, 3, "formula",
                   '="未完成 "&COUNTIF(audit_status,"未完成")&" 条，警告 "&COUNTIF(audit_status,"警告")&" 条"',
                   "formula_text", cached=lambda c: f"未完成 {_count('未完成')(c)} 条，警告 {_count('警告')(c)} 条"))
        s.merges.append(Merge(3, 0, 3, 3, "“错误”和“未完成”必须修改后才能报送；“警告”如属实际情况，请在表中相应的原因栏写明理由；"
                                          "“无效”表示资金数据有负数或文字。", "help"))
        s.heights[3] = 32
        s.header(4, ["序号", "审核规则", "结果", "说明（含相关数字）"])
        row = 5
        for n, check in enumerate(row_checks(f), 1):
            s.add(Cell(row, 0, "label", float(n), "center"))
            s.label(row, 1, check.label, "label")
            s.add(Cell(row, 2, "formula", check.status_formula(), "status", name=check.status_name,
                       cached=lambda c, k=check: c.audit(k)[0]))
            self.names[check.status_name] = (self.f.audit_sheet, row, 2)
            s.add(Cell(row, 3, "formula", check.message_formula(), "formula_text",
                       cached=lambda c, k=check: c.audit(k)[1]))
            s.fit(row, [(check.label, w[1]), ("x" * 110, w[3])], 24)
            row += 1
        self.ranges["audit_status"] = (self.f.audit_sheet, 5, 2, row - 1, 2)
        for i, h in enumerate(unique_helpers(f)):
            r, col = 5 + i % 20, 5 + i // 20
            s.add(Cell(r, col, "formula", h.formula, "formula_center", name=h.name,
                       cached=lambda c, h=h: h.value(c.report, c.raw)))
            self.names[h.name] = (self.f.audit_sheet, r, col)
            s.hidden_cols.add(col)
        rng = f"C6:C{row}"
        for word, fmt in (("错误", "cf_bad"), ("未完成", "cf_bad"), ("无效", "cf_bad"), ("警告", "cf_warn"),
                          ("提示", "cf_info"), ("通过", "cf_good")):
            s.conditional.append((rng, {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": fmt}))
        return s

    def meta(self) -> SheetPlan:
        s = SheetPlan(META, widths={0: 22, 1: 60}, very_hidden=True)
        for row, key in enumerate(ROW_META_KEYS):
            s.label(row, 0, key, "plain")
            s.add(Cell(row, 1, "input", None, "meta", name=f"jx_{key}", key=f"meta.{key}"))
            self.names[f"jx_{key}"] = (META, row, 1)
        return s


ROW_POINTS = 16.0  # the form sheet's row height (points)


def _count(word: str):
    from ..rowchecks import row_checks

    return lambda c: sum(1 for k in row_checks(c.report_form) if c.audit(k)[0] == word)


def _money_validation(label: str) -> dict[str, Any]:
    return {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1e12,
            "input_title": label[:32], "input_message": "以万元为单位，保留两位小数；没有请留空。",
            "error_title": "输入有误", "error_message": f"“{label}”：请输入不小于 0 的数字。", "error_type": "stop",
            "ignore_blank": True}


def build_row_plan(form: RowForm, locked_identity: bool = True, bureau: str | None = None) -> WorkbookPlan:
    return RowPlanBuilder(form, locked_identity, bureau).build()


__all__ = ["ROW_META_KEYS", "Ctx", "RowCtx", "build_row_plan", "funds_bad_expr"]
