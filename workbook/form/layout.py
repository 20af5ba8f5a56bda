"""The workbook as data: every sheet, cell, merge, name and validation, planned from the template.

The plan is pure (no xlsxwriter): the renderer writes it, the per-unit patcher fills
its variable cells, and the verifier regenerates it to know every expected formula.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..checks import NOT_LIVE, PORTABLE_REVISION, Check, CountingCheck, build_checks
from ..formulas import named_formulas, shown_values
from ..numbers import excel_number
from ..template import Input, Template
from .textfit import page_breaks, printable_height, row_height

META = "_jixiao"  # the hidden metadata sheet: the system's, common to every form
AUDIT_PARTS_COL = 5  # 审核: the first hidden column of counting rows' part cells (F)

META_KEYS = ["template_id", "template_version", "template_hash", "generator", "generator_version",
             "return_id", "unit_name", "budget_code", "parent_dept", "year", "generated_at", "mac"]


# Older imports named the built-in template's sheets and tables here; they now come from its [form] tables.
_ROLE_CONSTANTS = {"GUIDE": "guide", "COVER": "cover", "PROFILE": "profile", "FINANCE": "finance",
                   "SCORING": "scoring", "GOALS": "goals", "EVALUATORS": "team", "SUMMARY": "summary",
                   "SCORE": "score", "AUDIT": "audit"}


def __getattr__(name: str) -> Any:
    """TABLES, SHEET_ORDER and the sheet-title constants of the built-in template, for older imports."""
    if name in ("TABLES", "SHEET_ORDER", *_ROLE_CONSTANTS):
        from ..template import default_template

        form = default_template().form
        if name == "TABLES":
            return form.table_columns
        if name == "SHEET_ORDER":
            return [*form.titles(), META]
        return form.sheet(_ROLE_CONSTANTS[name])
    raise AttributeError(name)


@dataclass
class Ctx:
    """What a cached value is computed from: the unit's raw inputs, their Values and the engine's Report."""

    raw: dict[str, Any]
    values: Any
    report: Any
    _shown: dict[str, Any] | None = None

    def shown(self, name: str) -> Any:
        """What the named formula cell shows (engine values, 未完成 where a score is open), computed once."""
        if self._shown is None:
            self._shown = shown_values(self.values.t, self.report)
        return self._shown[name]


Cached = Callable[[Ctx], Any]


@dataclass
class Cell:
    row: int
    col: int
    kind: str  # label | input | formula
    value: Any = None  # label text, or formula text
    style: str = "text"
    name: str | None = None
    key: str | None = None  # input key (template input, note_*, explain_*, or table.r.c)
    cached: Cached | None = None
    validation: dict[str, Any] | None = None


@dataclass
class Merge:
    r1: int
    c1: int
    r2: int
    c2: int
    text: str
    style: str


@dataclass
class SheetPlan:
    name: str
    cells: list[Cell] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    freeze: tuple[int, int] | None = None
    landscape: bool = False
    repeat_rows: tuple[int, int] | None = None
    very_hidden: bool = False
    hidden_cols: set[int] = field(default_factory=set)  # helper columns (not shown, not printed)
    conditional: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    protect: bool = True
    breaks: list[int] = field(default_factory=list)  # manual page breaks (before these rows)
    scale: int | None = None  # print scale in percent; None: 100 % (fit to page width as a fallback)

    def add(self, cell: Cell) -> Cell:
        self.cells.append(cell)
        return cell

    def label(self, row: int, col: int, text: str, style: str = "label") -> None:
        self.add(Cell(row, col, "label", text, style))

    def title(self, text: str, last_col: int, row: int = 0) -> None:
        """A sheet title merged across the table's width."""
        self.merges.append(Merge(row, 0, row, last_col, text, "title"))

    def header(self, row: int, labels: list[str]) -> None:
        """A header row, one label per column from A."""
        for col, text in enumerate(labels):
            self.label(row, col, text, "header")

    def fit(self, row: int, pairs: list[tuple[str, float]], minimum: float = 20.0) -> None:
        self.heights[row] = max(self.heights.get(row, 0), row_height(pairs, minimum))


@dataclass
class WorkbookPlan:
    template: Template
    sheets: list[SheetPlan]
    names: dict[str, tuple[str, int, int]]  # single-cell defined names
    ranges: dict[str, tuple[str, int, int, int, int]]  # range names (tables, lists)
    locked_identity: bool
    bureau: str = ""

    def sheet(self, name: str) -> SheetPlan:
        return next(s for s in self.sheets if s.name == name)

    def input_cells(self) -> list[tuple[str, Cell]]:
        return [(s.name, c) for s in self.sheets for c in s.cells if c.kind == "input"]

    def formula_cells(self) -> list[tuple[str, Cell]]:
        return [(s.name, c) for s in self.sheets for c in s.cells if c.kind == "formula"]


# ---------------------------------------------------------------------------
# validation and styles per input type
# ---------------------------------------------------------------------------

def input_style(spec: Input) -> str:
    if spec.type in ("money", "rate", "score"):
        return "input_money"
    if spec.type == "int":
        return "input_int"
    if spec.type == "date":
        return "input_date"
    if spec.long:
        return "input_long"
    return "input"


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def validation_for(spec: Input) -> dict[str, Any]:
    """A data validation with a Chinese input message and error alert for one input."""
    title = _short(spec.label, 32)
    help_text = spec.help
    if spec.type == "money":
        lo = float(spec.min) if spec.min is not None else -1e12
        v = {"validate": "decimal", "criteria": "between", "minimum": lo, "maximum": 1e12}
        msg = "以万元为单位，保留两位小数。" + ("可以为负数。" if spec.min is None else "不能为负数；没有请填 0 或留空。")
        err = "请输入以万元为单位的数字" + ("。" if spec.min is None else "，不能为负数。")
    elif spec.type == "int":
        v = {"validate": "integer", "criteria": "between", "minimum": int(spec.min or 0),
             "maximum": int(spec.max) if spec.max is not None else 10**9}
        msg = f"请输入整数（{spec.unit}）。"
        err = "请输入不小于 0 的整数。" if spec.max is None else f"请输入 {int(spec.min or 0)}～{int(spec.max)} 之间的整数。"
    elif spec.type in ("rate", "score"):
        mx = float(spec.max) if spec.max is not None else 100.0
        v = {"validate": "decimal", "criteria": "between", "minimum": float(spec.min or 0), "maximum": mx}
        lo_txt, hi_txt = f"{float(spec.min or 0):g}", f"{mx:g}"
        msg = (f"按百分数填写，{lo_txt}～{hi_txt}（95 表示 95%）。" if spec.type == "rate"
               else f"自评分，{lo_txt}～{hi_txt} 分。")
        err = f"请输入 {lo_txt}～{hi_txt} 之间的数字。"
    elif spec.type == "yesno":
        v = {"validate": "list", "source": "=list_yesno"}
        msg = "请从下拉列表中选择“是”或“否”。"
        err = "只能选择“是”或“否”。"
    elif spec.type == "date":
        import datetime as dt

        v = {"validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
             "maximum": dt.date(2100, 12, 31)}
        msg = "请输入日期，例如 2022-05-17。"
        err = "请输入有效日期，例如 2022-05-17。"
    else:
        v = {"validate": "length", "criteria": "<=", "value": 30000}
        msg = "请输入文字。" if not spec.long else "请输入文字；单元格内换行按 Alt+Enter。"
        err = "文字过长（不超过 30000 字）。"
    v.update({
        "input_title": title,
        "input_message": _short((help_text + " " if help_text else "") + msg, 255),
        "error_title": "输入有误",
        "error_message": _short(f"“{spec.label}”：{err}", 255),
        "error_type": "stop",
        "ignore_blank": True,
    })
    return v


def text_validation(title: str, message: str) -> dict[str, Any]:
    return {"validate": "length", "criteria": "<=", "value": 30000, "input_title": _short(title, 32),
            "input_message": _short(message, 255), "error_title": "输入有误",
            "error_message": "文字过长（不超过 30000 字）。", "ignore_blank": True}


# ---------------------------------------------------------------------------
# cached values
# ---------------------------------------------------------------------------

def _named_cached(t: Template, name: str) -> Cached:
    if name.startswith("score_"):
        ind_id = name.removeprefix("score_")
        return lambda c: c.report.indicator(ind_id).display
    if name.startswith("subtotal_") or name in ("total_score", "grade"):
        return lambda c: c.shown(name)
    return lambda c: c.report.computed[name]


def _echo(key: str) -> Cached:
    """Cached value of =IF(key="","",key)."""
    return lambda c: "" if c.raw.get(key) in (None, "") else c.raw.get(key)


def _echo_num(t: Template, key: str) -> Cached:
    if key in t.computed:
        return lambda c: c.report.computed[key]
    return _echo(key)


class Builder:
    """Builds the WorkbookPlan of a template."""

    def __init__(self, t: Template, locked_identity: bool, region: str | None = None, bureau: str | None = None):
        self.t = t
        self.locked_identity = locked_identity
        self.region = region or t.region
        self.bureau = bureau or f"{self.region}财政局"
        # the cell layout old returns were issued with stays as it was (their formulas are verified by position)
        self.rev3 = t.formula_revision >= PORTABLE_REVISION
        self.names: dict[str, tuple[str, int, int]] = {}
        self.ranges: dict[str, tuple[str, int, int, int, int]] = {}
        self.formulas = named_formulas(t)
        self.checks: list[Check] = build_checks(t)
        self.f = t.form  # the form's workbook facts (sheet titles, tables) from the template

    # -- helpers ---------------------------------------------------------
    def input_cell(self, sheet: SheetPlan, row: int, col: int, key: str) -> Cell:
        spec = self.t.inputs[key]
        style = input_style(spec)
        if spec.identity and self.locked_identity:
            style = "identity"
        cell = sheet.add(Cell(row, col, "input", None, style, name=key, key=key, validation=validation_for(spec)))
        self.names[key] = (sheet.name, row, col)
        return cell

    def named_formula(self, sheet: SheetPlan, row: int, col: int, name: str, style: str) -> Cell:
        cell = sheet.add(Cell(row, col, "formula", self.formulas[name], style, name=name,
                              cached=_named_cached(self.t, name)))
        self.names[name] = (sheet.name, row, col)
        return cell

    def echo(self, sheet: SheetPlan, row: int, col: int, key: str, style: str = "formula") -> None:
        if key in self.t.computed:
            sheet.add(Cell(row, col, "formula", f"={key}", style, cached=_echo_num(self.t, key)))
        else:
            sheet.add(Cell(row, col, "formula", f'=IF({key}="","",{key})', style, cached=_echo(key)))

    # -- sheets ------------------------------------------------------------
    def build(self) -> WorkbookPlan:
        draw = {"guide": self.guide, "cover": self.cover, "profile": self.profile, "finance": self.finance,
                "scoring": self.scoring, "goals": self.goals, "team": self.team, "summary": self.summary,
                "score": self.score_sheet, "audit": self.audit}
        sheets = [draw[role]() for role in self.f.sheets] + [self.meta()]
        for sheet in sheets:  # titles (16 pt) need taller rows than the default
            for row in [m.r1 for m in sheet.merges if m.style == "title"] + \
                       [c.row for c in sheet.cells if c.style == "title"]:
                sheet.heights[row] = max(sheet.heights.get(row, 0), 30)
        return WorkbookPlan(self.t, sheets, self.names, self.ranges, self.locked_identity, self.bureau)

    def guide(self) -> SheetPlan:
        s = SheetPlan(self.f.sheet("guide"), widths={0: 88})
        t = self.t
        fill = {"form_title": t.form_title, "title": t.title, "bureau": self.bureau}
        lines = [(kind, text.format(**fill)) for kind, text in self.f.guide]
        for row, (kind, text) in enumerate(lines):
            s.label(row, 0, text, {"title": "title", "heading": "heading", "text": "guide"}[kind])
            if kind == "text":
                s.fit(row, [(text, s.widths[0])])
            elif kind == "title":
                s.heights[row] = 30
        return s

    def _form_rows(self, s: SheetPlan, row: int, keys: list[str]) -> int:
        """One input per row: label | value | help."""
        widths = (s.widths[0], s.widths[1], s.widths.get(2, 0))
        for key in keys:
            spec = self.t.inputs[key]
            s.label(row, 0, spec.label + (f"（{spec.unit}）" if spec.unit not in ("文本", "是否", "日期") else ""))
            self.input_cell(s, row, 1, key)
            if spec.help:
                s.label(row, 2, spec.help, "help")
            elif len(s.widths) > 2 and self.rev3:
                s.label(row, 2, "", "help")
            if spec.long:
                s.heights[row] = 170  # about ten lines; clerks may enlarge rows (format_rows is allowed)
            else:
                s.fit(row, [(spec.label, widths[0]), (spec.help, widths[2])], 24 if self.rev3 else 20)
            row += 1
        return row

    def cover(self) -> SheetPlan:
        t = self.t
        keys = [k for k, spec in t.inputs.items() if self.f.sections[spec.section] == "cover"]
        helps = any(t.inputs[k].help for k in keys)
        s = SheetPlan(self.f.sheet("cover"), widths={0: 22, 1: 40, 2: 28} if helps else {0: 24, 1: 66})
        last = len(s.widths) - 1
        s.merges.append(Merge(0, 0, 0, last, self.f.headings["cover"].format(region=self.region), "cover_title"))
        s.heights[0] = 90
        if self.rev3:  # the year under the title, from the locked year cell
            s.merges.append(Merge(1, 0, 1, last, "", "cover_year"))
            s.add(Cell(1, 0, "formula", '=IF(ISNUMBER(year),year&"年度","")', "cover_year",
                       cached=_year_title))
            s.heights[1] = 40
        end = self._form_rows(s, 2, keys)
        s.heights[end] = 30
        s.merges.append(Merge(end + 1, 0, end + 1, last, f"{self.bureau}（制）", "cover_bureau"))
        s.heights[end + 1] = 30
        return s

    def profile(self) -> SheetPlan:
        s = SheetPlan(self.f.sheet("profile"), widths={0: 20, 1: 50, 2: 22}, freeze=(2, 0), repeat_rows=(1, 1))
        s.title(self.f.headings["profile"], 2)
        s.header(1, ["项目", "填写内容", "说明"])
        keys = [k for k, spec in self.t.inputs.items() if self.f.sections[spec.section] == "profile"]
        self._form_rows(s, 2, keys)
        return s

    def finance(self) -> SheetPlan:
        t = self.t
        s = SheetPlan(self.f.sheet("finance"), widths={0: 26, **{c: 12 for c in range(1, 9)}}, landscape=True)
        name_height = row_height([("名" * 20, s.widths[0])], 22)  # a long unit name in two lines
        s.title(self.f.headings["finance"], 8)
        row = 1

        def table(title: str, total_key: str, groups: list[tuple[str | None, list[str]]]) -> None:
            nonlocal row
            s.merges.append(Merge(row, 0, row, 8, title, "subtitle"))
            row += 1
            head, sub, data = row, row + 1, row + 2
            s.merges.append(Merge(head, 0, sub, 0, "机构名称", "header"))
            s.merges.append(Merge(head, 1, sub, 1, t.label(total_key), "header"))
            col = 2
            for heading, keys in groups:
                if heading:
                    s.merges.append(Merge(head, col, head, col + len(keys) - 1, heading, "header"))
                    for k in keys:
                        s.label(sub, col, t.label(k), "header")
                        col += 1
                else:
                    for k in keys:
                        s.merges.append(Merge(head, col, sub, col, t.label(k), "header"))
                        col += 1
            s.heights[sub] = max([34.0] + [row_height([(t.label(k), s.widths[1])]) for _, ks in groups for k in ks])
            s.heights[head] = 22
            self.echo(s, data, 0, "unit_name", "formula_text")
            self.named_formula(s, data, 1, total_key, "formula_money")
            col = 2
            for _, keys in groups:
                for k in keys:
                    if k in t.computed:
                        self.named_formula(s, data, col, k, "formula_money")
                    else:
                        self.input_cell(s, data, col, k)
                    col += 1
            s.heights[data] = name_height
            row = data + 2

        for tb in self.f.finance:
            if tb.total:
                table(tb.title, tb.total, [(heading, list(keys)) for heading, keys in tb.groups])
                continue
            # a row of inputs with a note beside them: keeps inputs unmerged and headers clear
            s.merges.append(Merge(row, 0, row, 8, tb.title, "subtitle"))
            row += 1
            s.label(row, 0, "机构名称", "header")
            self.echo(s, row + 1, 0, "unit_name", "formula_text")
            for col, k in enumerate(tb.keys, start=1):
                s.label(row, col, t.label(k), "header")
                self.input_cell(s, row + 1, col, k)
            s.label(row, len(tb.keys) + 1, "说明", "header")
            s.merges.append(Merge(row + 1, len(tb.keys) + 1, row + 1, 8, tb.note, "help"))
            if tb.header_height:
                s.heights[row], s.heights[row + 1] = tb.header_height, name_height
            else:
                s.heights[row] = max([34.0] + [row_height([(t.label(k), s.widths[1])]) for k in tb.keys])
                s.heights[row + 1] = max(34, name_height)
            row += 3
        starts = sorted(m.r1 for m in s.merges if m.style == "subtitle")
        last = max(c.row for c in s.cells)
        blocks = [(a, b - 1) for a, b in zip(starts, [*starts[1:], last + 1], strict=True)]
        heights = [s.heights.get(r, 20.0) for r in range(last + 1)]
        s.breaks = page_breaks(heights, blocks, printable_height(True), printable_height(True))  # tables stay whole
        return s

    def scoring(self) -> SheetPlan:
        t = self.t
        w = {0: 20, 1: 40, 2: 8, 3: 14, 4: 50}
        s = SheetPlan(self.f.sheet("scoring"), widths=w, freeze=(2, 0), landscape=True, repeat_rows=(1, 1))
        s.title(self.f.headings["scoring"], 4)
        s.header(1, ["三级指标", "填报项", "单位", "填写值", "填写说明和数据来源"])
        row = 2
        blocks: list[tuple[int, int]] = []
        for ind in t.indicators:
            own = [k for k, spec in t.inputs.items() if spec.section == "scoring" and spec.indicator == ind.id]
            refs = [k for k in ind.rule.referenced() if k not in own
                    and (t.computed[k].section if k in t.computed else t.inputs[k].section) != "scoring"]
            if self.rev3:  # one input shown once (a rule may read it in two variants)
                refs = list(dict.fromkeys(refs))
            start = row
            for key in refs:
                section = self.f.section_sheet(t.computed[key].section if key in t.computed else t.inputs[key].section)
                s.label(row, 1, t.label(key), "label")
                s.label(row, 2, "万元" if key not in t.inputs else t.inputs[key].unit, "center")
                style = "formula_money" if (key in t.computed or t.inputs[key].type == "money") else "formula"
                self.echo(s, row, 3, key, style)
                note = f"自动取自「{section}」"
                s.label(row, 4, note, "help")
                s.fit(row, [(t.label(key), w[1]), (note, w[4])])
                row += 1
            for key in own:
                spec = t.inputs[key]
                s.label(row, 1, spec.label, "label")
                s.label(row, 2, spec.unit, "center")
                self.input_cell(s, row, 3, key)
                s.label(row, 4, spec.help, "help")
                s.fit(row, [(spec.label, w[1]), (spec.help, w[4])])
                row += 1
                for d in [d for d in self.f.derived_rows if d.after == key and d.key in ind.rule.referenced()]:
                    s.label(row, 1, t.label(d.key), "label")
                    s.label(row, 2, "万元", "center")
                    self.named_formula(s, row, 3, d.key, "formula_money")
                    s.label(row, 4, d.note, "help")
                    s.fit(row, [(d.note, w[4])])
                    row += 1
            if row - 1 > start:
                s.merges.append(Merge(start, 0, row - 1, 0, ind.name, "label_center"))
            elif row - 1 == start:
                s.label(start, 0, ind.name, "label_center")
            if row > start:
                blocks.append((start, row - 1))
        heights = [s.heights.get(r, 20.0) for r in range(row)]
        page = printable_height(True)
        s.breaks = page_breaks(heights, blocks, page, page - heights[1])  # an indicator's rows stay together
        return s

    def goals(self) -> SheetPlan:
        w = {0: 22, 1: 16, 2: 36, 3: 29, 4: 29}
        s = SheetPlan(self.f.sheet("goals"), widths=w, landscape=True)
        qual = next(tb for tb in self.f.tables if tb.sheet == "goals" and not tb.indicators)
        quant = next(tb for tb in self.f.tables if tb.sheet == "goals" and tb.indicators)
        s.title(self.f.headings["goals"], 4)
        s.merges.append(Merge(1, 0, 1, 4, "整体支出绩效定性目标及实施计划完成情况", "subtitle"))
        s.merges.append(Merge(2, 0, 2, 2, "预期目标", "header"))
        s.merges.append(Merge(2, 3, 2, 4, "实际完成", "header"))
        # qualitative goals: target spans A:C visually through a wide single input in A? inputs must be unmerged,
        # so the target goes in column C (wide) with the row number in A:B.
        row = 3
        for i in range(qual.rows):
            s.merges.append(Merge(row, 0, row, 1, qual.row_label.format(n=i + 1), "label_center"))
            for col, column in enumerate(qual.columns, start=2):
                self.table_input(s, row, col, qual.key, i, column)
            s.heights[row] = 36
            row += 1
        self.ranges[qual.key] = (s.name, 3, 2, row - 1, 1 + len(qual.columns))
        row += 1
        s.merges.append(Merge(row, 0, row, 4, "整体支出绩效定量目标及实施计划完成情况", "subtitle"))
        row += 1
        s.header(row, ["评价内容", "指标", "指标说明", "绩效目标", "完成情况"])
        row += 1
        first = row
        group_start = row
        goals = quant.indicators
        for i, (content, name, desc) in enumerate((g.content, g.name, g.help) for g in goals):
            if content is not None:
                if i:
                    s.merges.append(Merge(group_start, 0, row - 1, 0, goals[group_start - first].content or "",
                                          "label_center"))
                group_start = row
            s.label(row, 1, name, "label")
            s.label(row, 2, desc, "help")
            for col, column in enumerate(quant.columns, start=3):
                self.table_input(s, row, col, quant.key, i, column)
            s.fit(row, [(desc, w[2]), (name, w[1])], 30)
            row += 1
        s.merges.append(Merge(group_start, 0, row - 1, 0, goals[group_start - first].content or "", "label_center"))
        self.ranges[quant.key] = (s.name, first, 3, row - 1, 2 + len(quant.columns))
        for m in [m for m in s.merges if m.c1 == 0 and m.r1 >= first and m.r2 > m.r1]:
            rows = range(m.r1, m.r2 + 1)
            need = row_height([(m.text, w[0])])
            have = sum(s.heights.get(r, 20) for r in rows)
            if need > have:
                for r in rows:
                    s.heights[r] = s.heights.get(r, 20) + (need - have) / len(rows)
        groups = sorted((m.r1, m.r2) for m in s.merges if m.c1 == 0 and m.r1 >= first and m.r2 > m.r1)
        blocks = [(first - 2, groups[0][1]), *groups[1:], (row, row + 1)]  # a group never splits over pages
        heights = [s.heights.get(r, 20.0) for r in range(row + 2)]
        s.breaks = page_breaks(heights, blocks, printable_height(True), printable_height(True))
        s.merges.append(Merge(row, 0, row, 2, "绩效自评综合得分", "header"))
        s.add(Cell(row, 3, "formula", "=total_score", "formula_money", cached=_named_cached(self.t, "total_score")))
        s.merges.append(Merge(row + 1, 0, row + 1, 2, "评价等次", "header"))
        s.add(Cell(row + 1, 3, "formula", "=grade", "formula_center", cached=_named_cached(self.t, "grade")))
        return s

    def table_input(self, s: SheetPlan, row: int, col: int, table: str, index: int, column: str) -> None:
        s.add(Cell(row, col, "input", None, "input_long", key=f"{table}.{index}.{column}",
                   validation=text_validation("填写内容", "请输入文字；单元格内换行按 Alt+Enter。")))

    def team(self) -> SheetPlan:
        s = SheetPlan(self.f.sheet("team"), widths={0: 14, 1: 24, 2: 32, 3: 20})
        people = next(tb for tb in self.f.tables if tb.sheet == "team")
        s.title(self.f.headings["team"], 3)
        s.header(1, ["姓  名", "职务/职称", "单  位", "签  字"])
        for i in range(people.rows):
            r = 2 + i
            for col, column in enumerate(people.columns):
                self.table_input(s, r, col, people.key, i, column)
            s.label(r, 3, "", "text")
            s.heights[r] = 24
        self.ranges[people.key] = (s.name, 2, 0, 1 + people.rows, len(people.columns) - 1)
        row = 3 + people.rows
        blocks = [
            "评价组组长（签字）：\n\n\n评价等级：____________\n\n                                                  年    月    日",
            "部门（单位）意见：\n\n\n\n                         部门（单位）负责人（签章）：\n                                                  年    月    日",
            "财政部门归口业务科室意见：\n\n\n\n                财政部门归口业务科室负责人（签章）：\n                                                  年    月    日",
            "填报人（签名）：                          联系电话：",
        ]
        for text in blocks:
            s.merges.append(Merge(row, 0, row, 3, text, "text_top"))
            s.heights[row] = 110 if "\n" in text else 28
            row += 1
        return s

    def summary(self) -> SheetPlan:
        s = SheetPlan(self.f.sheet("summary"), widths={0: 90})
        s.label(0, 0, self.f.headings["summary"], "title")
        row = 1
        for key in [k for k, spec in self.t.inputs.items() if self.f.sections[spec.section] == "summary"]:
            s.label(row, 0, self.t.label(key), "subtitle")
            s.heights[row] = 24
            self.input_cell(s, row + 1, 0, key)
            s.heights[row + 1] = self.f.text_heights.get(key, 130)
            row += 2
        return s

    def score_sheet(self) -> SheetPlan:
        t = self.t
        w = {0: 9, 1: 10, 2: 20, 3: 78, 4: 6, 5: 9, 6: 38}
        s = SheetPlan(self.f.sheet("score"), widths=w, freeze=(3, 0), landscape=True, repeat_rows=(2, 2), scale=75)
        s.label(0, 0, self.f.headings["score"], "plain")
        s.title(t.title, 6, row=1)
        s.heights[1] = 28
        s.header(2, ["一级指标", "二级指标", "三级指标", "评分标准", "分值", "自评得分", "扣分原因和其他说明"])
        s.heights[2] = 30
        row = 3
        rows_of: dict[str, int] = {}
        for ind in t.indicators:
            rows_of[ind.id] = row
            s.label(row, 2, "\n".join(ind.rows) if ind.rows else ind.name, "label_center")
            s.add(Cell(row, 4, "label", float(ind.max), "points"))
            self.named_formula(s, row, 5, f"score_{ind.id}", "score")
            s.add(Cell(row, 6, "input", None, "input_note", name=f"note_{ind.id}", key=f"note_{ind.id}",
                       validation=text_validation("扣分原因和其他说明", "有扣分的指标必须写明扣分原因；其他需要说明的情况也写在这里。")))
            self.names[f"note_{ind.id}"] = (s.name, row, 6)
            s.fit(row, [(ind.criteria if not ind.criteria_group else "", w[3]), (ind.name, w[2])], 30)
            row += 1
        end = row - 1
        # merged group cells as in the seed
        for lv in t.levels:
            ids = [i.id for i in t.indicators if i.level == lv.id]
            s.merges.append(Merge(rows_of[ids[0]], 0, rows_of[ids[-1]], 0,
                                  f"{'  '.join(lv.name)}\n（{lv.points:g}分）", "label_center"))
            for g in lv.groups:
                gids = [i.id for i in t.indicators if i.group == g.id]
                s.merges.append(Merge(rows_of[gids[0]], 1, rows_of[gids[-1]], 1, f"{g.name}\n（{g.points:g}分）",
                                      "label_center"))
        groups: dict[str, list[str]] = {}
        for ind in t.indicators:
            if ind.criteria_group:
                groups.setdefault(ind.criteria_group, []).append(ind.id)
            else:
                s.label(rows_of[ind.id], 3, ind.criteria, "criteria")
        for ids in groups.values():
            text = next(t.indicator(i).criteria for i in ids if t.indicator(i).criteria)
            s.merges.append(Merge(rows_of[ids[0]], 3, rows_of[ids[-1]], 3, text, "criteria"))
            need = row_height([(text, w[3])])
            per = need / len(ids)
            for i in ids:
                s.heights[rows_of[i]] = max(s.heights.get(rows_of[i], 20), per, 30)
        row = end + 1
        s.merges.append(Merge(row, 0, row, 3, "总  分", "header"))
        s.add(Cell(row, 4, "label", float(sum(i.max for i in t.indicators)), "points_bold"))
        self.named_formula(s, row, 5, "total_score", "score_total")
        s.label(row, 6, "", "text")
        s.heights[row] = 26
        row += 1
        s.merges.append(Merge(row, 0, row, 3, f"评价等次（{_bands_text(t)}）", "header"))
        s.label(row, 4, "", "text")
        self.named_formula(s, row, 5, "grade", "grade")
        s.label(row, 6, "", "text")
        s.heights[row] = 26
        row += 2
        s.merges.append(Merge(row, 0, row, 3, "分项小计（自动计算）", "subtitle"))
        s.label(row, 4, "分值", "header")
        s.label(row, 5, "得分", "header")
        row += 1
        for lv in t.levels:
            s.merges.append(Merge(row, 0, row, 3, lv.name, "label"))
            s.add(Cell(row, 4, "label", float(lv.points), "points"))
            self.named_formula(s, row, 5, f"subtotal_{lv.id}", "score")
            row += 1
            for g in lv.groups:
                s.merges.append(Merge(row, 0, row, 3, f"　　{lv.name} · {g.name}", "label"))
                s.add(Cell(row, 4, "label", float(g.points), "points"))
                self.named_formula(s, row, 5, f"subtotal_{g.id}", "score")
                row += 1
        self._keep_together(s, rows_of, end, row - 1)
        s.conditional.append((f"F4:F{end + 1}", {"type": "cell", "criteria": "==", "value": '"未填"', "format": "cf_bad"}))
        s.conditional.append((f"F4:F{end + 1}", {"type": "cell", "criteria": "==", "value": '"无效"', "format": "cf_bad"}))
        s.conditional.append((f"F4:F{end + 1}", {"type": "formula", "criteria": "=AND(ISNUMBER(F4),F4<E4)", "format": "cf_warn"}))
        return s

    def _keep_together(self, s: SheetPlan, rows_of: dict[str, int], end: int, last: int) -> None:
        """Page breaks between second-level groups, so the total, grade and 分项小计 stay with the table."""
        t = self.t
        heights = [s.heights.get(r, 20.0) for r in range(last + 1)]
        blocks = []
        for lv in t.levels:
            for g in lv.groups:
                ids = [i.id for i in t.indicators if i.group == g.id]
                blocks.append((rows_of[ids[0]], rows_of[ids[-1]]))
        blocks.append((end + 1, last))  # total, grade and the subtotal block
        page = printable_height(s.landscape) * 100 / (s.scale or 100)
        s.breaks = page_breaks(heights, blocks, page, page - heights[2])

    def audit(self) -> SheetPlan:
        t = self.t
        w = {0: 5, 1: 32, 2: 7, 3: 56, 4: 30}
        s = SheetPlan(self.f.sheet("audit"), widths=w, freeze=(5, 0), landscape=True, repeat_rows=(4, 4))
        s.title(self.f.headings["audit"], 4)
        s.label(1, 1, "总分 / 评价等次", "label")
        s.add(Cell(1, 2, "formula", "=total_score", "formula_money", cached=_named_cached(t, "total_score")))
        s.add(Cell(1, 3, "formula", "=grade", "formula_text", cached=_named_cached(t, "grade")))
        s.label(2, 1, "错误 / 警告 / 提示 条数", "label")
        s.add(Cell(2, 2, "formula", '=COUNTIF(audit_status,"错误")', "formula_center",
                   cached=_live_count("错误")))
        s.add(Cell(2, 3, "formula", '="警告 "&COUNTIF(audit_status,"警告")&" 条，提示 "&COUNTIF(audit_status,"提示")&" 条"',
                   "formula_text", cached=lambda c: f"警告 {_live_count('警告')(c)} 条，提示 {_live_count('提示')(c)} 条"))
        s.merges.append(Merge(3, 0, 3, 4, "“错误”必须修改后才能报送；“警告”如属实际情况，请在“审核说明”栏写明理由；“提示”仅供参考；"
                                          "“—”表示由财政局读取时核对。", "help"))
        s.heights[3] = 32
        s.header(4, ["序号", "审核规则", "结果", "说明（含相关数字）", "审核说明（单位填写）"])
        row = 5
        for n, check in enumerate(self.checks, 1):
            s.add(Cell(row, 0, "label", float(n), "center"))
            s.label(row, 1, check.label, "label")
            s.add(Cell(row, 2, "formula", check.status_formula(t), "status", name=f"audit_{check.id}",
                       cached=_audit_status(check)))
            self.names[f"audit_{check.id}"] = (s.name, row, 2)
            s.add(Cell(row, 3, "formula", check.message_formula(t), "formula_text", cached=_audit_message(check)))
            if isinstance(check, CountingCheck) and t.formula_revision >= 2:
                self._count_parts(s, row, check)
            s.add(Cell(row, 4, "input", None, "input_note", name=f"explain_{check.id}", key=f"explain_{check.id}",
                       validation=text_validation("审核说明", "对本行“警告”的说明：为什么数据属实。")))
            self.names[f"explain_{check.id}"] = (s.name, row, 4)
            s.fit(row, [(check.label, w[1]), ("x" * 90, w[3])], 30)
            row += 1
        self.ranges["audit_status"] = (s.name, 5, 2, row - 1, 2)
        rng = f"C6:C{row}"
        for word, fmt in (("错误", "cf_bad"), ("警告", "cf_warn"), ("提示", "cf_info"), ("通过", "cf_good")):
            s.conditional.append((rng, {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": fmt}))
        return s

    def _count_parts(self, s: SheetPlan, row: int, check: CountingCheck) -> None:
        """A counting row's part cells, in hidden columns right of the table (F, G, …)."""
        for k, items in enumerate(check.parts(self.t)):
            col = AUDIT_PARTS_COL + k
            name = check.part_name(k)
            s.add(Cell(row, col, "formula", check.part_formula(self.t, items), "formula_center", name=name,
                       cached=_part_count(check, items)))
            self.names[name] = (s.name, row, col)
            s.hidden_cols.add(col)

    def meta(self) -> SheetPlan:
        s = SheetPlan(META, widths={0: 22, 1: 60}, very_hidden=True)
        for row, key in enumerate(META_KEYS):
            s.label(row, 0, key, "plain")
            s.add(Cell(row, 1, "input", None, "meta", name=f"jx_{key}", key=f"meta.{key}"))
            self.names[f"jx_{key}"] = (META, row, 1)
        s.label(0, 3, "是", "plain")
        s.label(1, 3, "否", "plain")
        self.ranges["list_yesno"] = (META, 0, 3, 1, 3)
        return s


def _bands_text(t: Template) -> str:
    """The grade bands in words: ≥90 优，80～90 良，…，<60 差."""
    bands = t.grade_bands
    words = []
    for i, (minimum, grade) in enumerate(bands):
        if i == 0:
            words.append(f"≥{minimum:g} {grade}")
        elif i == len(bands) - 1:
            words.append(f"<{bands[i - 1][0]:g} {grade}")
        else:
            words.append(f"{minimum:g}～{bands[i - 1][0]:g} {grade}")
    return "，".join(words)


def _year_title(c: Ctx) -> str:
    """Cached value of =IF(ISNUMBER(year),year&"年度","")."""
    year = c.raw.get("year")
    if isinstance(year, bool) or not isinstance(year, (int, float, Decimal)):
        return ""
    return f"{excel_number(year)}年度"


def _audit_status(check: Check) -> Cached:
    """The status the row's formula shows; "—" for a check only the bureau's reader runs."""
    if not check.live:
        return lambda c: NOT_LIVE
    return lambda c: c.report.audit.get(check.id, NOT_LIVE)


def _live_count(word: str) -> Cached:
    return lambda c: sum(1 for ch in build_checks(c.values.t) if ch.live and c.report.audit.get(ch.id) == word)


def _part_count(check: CountingCheck, items: list[str]) -> Cached:
    return lambda c: check.part_count(c.values, c.report, items)


def _audit_message(check: Check) -> Cached:
    from ..checks import cached_message

    return lambda c: cached_message(check, c.values, c.report)


def build_plan(t: Template, locked_identity: bool = True, region: str | None = None,
               bureau: str | None = None) -> WorkbookPlan:
    """The complete workbook plan of a template; `region` and `bureau` name the issuer on the cover and guide."""
    return Builder(t, locked_identity, region, bureau).build()

