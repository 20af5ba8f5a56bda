"""The workbook plan of a row form (附件3-1): one form sheet and the hidden metadata sheet.

Inputs are named by their key (identity, funds cells, `ind_<level>_<n>_<column>` per row, texts);
each used row's score, the funds score, the level subtotals, the total and the grade are formulas
from workbook.rowrules with the engine's values cached.  Built from the template alone.
"""

from __future__ import annotations

from typing import Any

from ..numbers import excel_number
from ..rowrules import funds_formula, row_formula
from .layout import META, META_KEYS, Cell, Ctx, SheetPlan, WorkbookPlan, text_validation
from .rowform import RowForm

ROW_META_KEYS = [*META_KEYS, "project_name", "project_code"]


def _display(report: Any, rid: str) -> Any:
    found = [r for r in report.indicators if r.id == rid]
    return found[0].display if found else ""


def grade_formula(form: RowForm, total: str) -> str:
    bands = sorted(form.grade_bands, key=lambda b: b[0], reverse=True)
    out = f'"{bands[-1][1]}"'
    for minimum, grade in reversed(bands[:-1]):
        out = f'IF({total}>={excel_number(minimum)},"{grade}",{out})'
    return "=" + out


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
        s = SheetPlan(self.sheet_name, widths={0: 16, 1: 24, 2: 10, 3: 14, 4: 10, 5: 14, 6: 8, 7: 10, 8: 30},
                      landscape=True)
        s.title(f"{f.form_title}", 8)
        row = 2
        for fld in (*f.identity, *f.header):
            s.label(row, 0, fld.label)
            ident = fld in f.identity
            self._input(s, row, 1, fld.key, fld.label, identity=ident)
            row += 1
        row += 1
        s.label(row, 0, f.funds.label, "header")
        for j, col in enumerate(f.funds.columns):
            s.label(row, 1 + j, col.label, "header")
        s.label(row, 1 + len(f.funds.columns), "分值", "header")
        s.label(row, 2 + len(f.funds.columns), "执行率", "header")
        s.label(row, 3 + len(f.funds.columns), "得分", "header")
        total_row = row + 1
        s.label(total_row, 0, f.funds.total.label)
        for i, r in enumerate(f.funds.rows, start=1):
            s.label(total_row + i, 0, r.label)
            for j, col in enumerate(f.funds.columns):
                key = f.funds.key(r.key, col.key)
                s.add(Cell(total_row + i, 1 + j, "input", None, "input_money", name=key, key=key,
                           validation=_money_validation(col.label)))
                self.names[key] = (s.name, total_row + i, 1 + j)
        for j, col in enumerate(f.funds.columns):
            keys = [f.funds.key(r.key, col.key) for r in f.funds.rows]
            name = f"funds_total_{col.key}"
            self._formula(s, total_row, 1 + j, name, "=SUM(" + ",".join(keys) + ")",
                          lambda c, n=name: c.report.computed[n], "formula_money")
        ncol = len(f.funds.columns)
        s.label(total_row, 1 + ncol, float(f.params.funds_points), "plain")
        cells = [f.funds.key(r.key, c.key) for r in f.funds.rows for c in f.funds.columns]
        bad = "OR(" + ",".join(f'AND(TRIM({k})<>"",NOT(ISNUMBER({k})))' for k in cells) + "," + \
              ",".join(f"SUM({k})<0" for k in cells) + ")"
        b, e = f"funds_total_{f.funds.budget_column}", f"funds_total_{f.funds.executed_column}"
        self._formula(s, total_row, 2 + ncol, "funds_rate", f'=IF(OR({bad},{b}=0),"",ROUND(100*{e}/{b},2))',
                      lambda c: c.report.computed.get("funds_rate", ""), "formula")
        self._formula(s, total_row, 3 + ncol, "score_funds",
                      f'=IF({bad},"无效",{funds_formula(b, e, f.params)[1:]})', lambda c: _display(c.report, "funds"))
        row = total_row + len(f.funds.rows) + 1
        s.label(row, 0, "偏差原因")
        self._input(s, row, 1, f.funds.reason_key, "偏差原因", "input_long")
        row += 2
        for fld in f.goals:
            s.label(row, 0, fld.label)
            self._input(s, row, 1, fld.key, fld.label, "input_long")
            row += 1
        row += 1
        s.label(row, 0, "一级指标", "header")
        for j, c in enumerate(f.row_columns):
            s.label(row, 1 + j, c.label, "header")
        s.label(row, 1 + len(f.row_columns), "得分", "header")
        row += 1
        level_names = []
        for lv in f.levels:
            first = row
            for rid in lv.row_ids():
                s.label(row, 0, lv.name, "plain")
                for j, c in enumerate(f.row_columns):
                    key = f.row_key(rid, c.key)
                    style = "input_money" if c.key in ("points",) else "input"
                    self._input(s, row, 1 + j, key, c.label, style)
                k = {c: f.row_key(rid, c) for c in ("name", "nature", "target", "actual", "points")}
                self._formula(s, row, 1 + len(f.row_columns), f"score_{rid}",
                              row_formula(k["name"], k["nature"], k["target"], k["actual"], k["points"], f.params),
                              lambda c, r=rid: _display(c.report, r))
                row += 1
            score_col = 1 + len(f.row_columns)
            s.label(row, 0, f"{lv.name}小计", "header")
            name = f"subtotal_{lv.id}"
            from .refs import absolute

            rng = absolute(s.name, first, score_col, row - 1, score_col)[1:]
            self._formula(s, row, score_col, name, f"=ROUND(SUM({rng}),2)",
                          lambda c, i=lv.id: c.report.subtotals[i])
            level_names.append(name)
            row += 2
        uncapped = "ROUND(SUM(" + ",".join(["score_funds", *level_names]) + "),2)"
        s.label(row, 0, "总分", "header")
        self._formula(s, row, 1, "total_uncapped", "=" + uncapped, lambda c: c.report.computed["total_uncapped"])
        self._formula(s, row, 2, "total_score", cap_formula(f, "total_uncapped", "funds_rate"),
                      lambda c: c.report.total)
        s.label(row + 1, 0, "评价等次", "header")
        self._formula(s, row + 1, 1, "grade", grade_formula(f, "total_score"), lambda c: c.report.grade)
        row += 3
        for fld in f.texts:
            s.label(row, 0, fld.label)
            self._input(s, row, 1, fld.key, fld.label, "input_long")
            row += 1
        return WorkbookPlan(f, [s, self.meta()], self.names, self.ranges, self.locked, self.bureau)  # type: ignore[arg-type]

    def meta(self) -> SheetPlan:
        s = SheetPlan(META, widths={0: 22, 1: 60}, very_hidden=True)
        for row, key in enumerate(ROW_META_KEYS):
            s.label(row, 0, key, "plain")
            s.add(Cell(row, 1, "input", None, "meta", name=f"jx_{key}", key=f"meta.{key}"))
            self.names[f"jx_{key}"] = (META, row, 1)
        return s


def _money_validation(label: str) -> dict[str, Any]:
    return {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1e12,
            "input_title": label[:32], "input_message": "以万元为单位，保留两位小数；没有请留空。",
            "error_title": "输入有误", "error_message": f"“{label}”：请输入不小于 0 的数字。", "error_type": "stop",
            "ignore_blank": True}


def build_row_plan(form: RowForm, locked_identity: bool = True, bureau: str | None = None) -> WorkbookPlan:
    return RowPlanBuilder(form, locked_identity, bureau).build()


__all__ = ["ROW_META_KEYS", "Ctx", "build_row_plan"]
