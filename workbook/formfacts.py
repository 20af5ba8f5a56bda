"""A form's workbook facts (the template's [form] tables): sheet titles, money tables, text tables,
prefill and district columns — what the generic code must know about a form beyond its rules.

Template versions issued before the facts moved into the TOML have no [form] tables of their own;
they take them from a frozen companion file in templates/ (kind = "facts", listing the versions it
serves), which is not part of their content hash.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

# The sheets the plan builder knows how to draw (workbook.form.layout), by role.
SHEET_ROLES = ("guide", "cover", "profile", "finance", "scoring", "goals", "team", "summary", "score", "audit")


@dataclass(frozen=True)
class MoneyTable:
    """One table of the money sheet: a computed total with column groups, or one row of keys with a note."""

    title: str
    total: str | None = None
    groups: tuple[tuple[str | None, tuple[str, ...]], ...] = ()
    keys: tuple[str, ...] = ()
    note: str = ""
    header_height: float | None = None


@dataclass(frozen=True)
class GoalRow:
    content: str | None  # the group's heading, on the first row of a group
    name: str
    help: str


@dataclass(frozen=True)
class TextTable:
    """A raw input holding a list of text rows (one value per column)."""

    key: str
    sheet: str
    columns: tuple[str, ...]
    rows: int
    row_label: str = ""
    indicators: tuple[GoalRow, ...] = ()


@dataclass(frozen=True)
class DerivedRow:
    key: str
    after: str
    note: str


@dataclass(frozen=True)
class FormFacts:
    sheets: dict[str, str]  # role -> title, in workbook order
    sections: dict[str, str]  # input section -> sheet role
    finance: tuple[MoneyTable, ...]
    derived_rows: tuple[DerivedRow, ...]
    text_heights: dict[str, float]
    tables: tuple[TextTable, ...]
    prefill: dict[str, str]  # next year's input -> this year's input or computed key
    district_money: tuple[str, ...]
    headings: dict[str, str]  # sheet role -> the heading on top of it
    guide: tuple[tuple[str, str], ...]  # 填报说明 lines: (style, text with {form_title} {title} {bureau})
    projects_spend: str = ""  # the key a unit's 附件3-1 projects are checked against ("" = no cross-form check)

    def sheet(self, role: str) -> str:
        return self.sheets[role]

    def section_sheet(self, section: str) -> str:
        return self.sheets[self.sections[section]]

    @cached_property
    def table_columns(self) -> dict[str, list[str]]:
        """Raw table key -> its column keys (what fill, read and the patcher need)."""
        return {tb.key: list(tb.columns) for tb in self.tables}

    def titles(self) -> list[str]:
        return list(self.sheets.values())


@lru_cache(maxsize=4)
def _companions(folder: str) -> tuple[tuple[str, tuple[str, ...], dict[str, Any]], ...]:
    out = []
    for p in sorted(Path(folder).glob("*.toml")):
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if data.get("kind") == "facts" and isinstance(data.get("form"), dict):
            out.append((str(data.get("template", "")), tuple(str(v) for v in data.get("versions", ())), data["form"]))
    return tuple(out)


def with_facts(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The template data with its [form] tables: its own, else those of a companion serving its version."""
    if "form" in data:
        return data
    for template_id, versions, form in _companions(str(folder)):
        if template_id == data.get("id") and str(data.get("version")) in versions:
            return {**data, "form": form}
    return data


def _keys_of(form: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, key) of every input or computed key the facts name."""
    out: list[tuple[str, str]] = []
    for n, tb in enumerate(form.get("finance", []), 1):
        where = f"form.finance 第{n}项（{tb.get('title', '')}）"
        out += [(where, k) for k in ([tb["total"]] if tb.get("total") else [])]
        out += [(where, k) for g in tb.get("groups", []) for k in g.get("keys", [])]
        out += [(where, k) for k in tb.get("keys", [])]
    for n, d in enumerate(form.get("derived_rows", []), 1):
        out += [(f"form.derived_rows 第{n}项", d.get("key")), (f"form.derived_rows 第{n}项", d.get("after"))]
    out += [("form.text_heights", k) for k in form.get("text_heights", {})]
    for k, v in form.get("prefill", {}).items():
        out += [("form.prefill", k), ("form.prefill", v)]
    out += [("form.district.money", k) for k in form.get("district", {}).get("money", [])]
    out += [("form.district.projects_spend", k) for k in [form.get("district", {}).get("projects_spend")] if k]
    return out


def lint_facts(data: dict[str, Any], known: set[str]) -> list[str]:
    """Problems of a template's [form] tables (known: its input and computed keys)."""
    form = data.get("form")
    if not isinstance(form, dict):
        return ["缺少工作簿描述 [form]（工作表、金额表、文字表等）"]
    problems = []
    sheets = form.get("sheets", {})
    for role in SHEET_ROLES:
        if not sheets.get(role):
            problems.append(f"form.sheets：缺少工作表 {role}")
    problems += [f"form.headings：缺少 {role} 的标题" for role in SHEET_ROLES
                 if role not in ("guide", "cover") and role not in form.get("headings", {})]
    problems += [f"form.headings：{k} 不是工作表" for k in form.get("headings", {}) if k not in SHEET_ROLES]
    lines = form.get("guide", {}).get("lines", [])
    if not lines or any(not isinstance(x, list) or len(x) != 2 or x[0] not in ("title", "heading", "text") for x in lines):
        problems.append("form.guide.lines：应为 [样式, 文字] 的列表，样式为 title、heading 或 text")
    problems += [f"form.sheets：未知工作表 {r!r}，应为 {list(SHEET_ROLES)}" for r in sheets if r not in SHEET_ROLES]
    if len(set(sheets.values())) != len(sheets):
        problems.append("form.sheets：工作表名称重复")
    problems += [f"form.sections：{s} 的工作表 {r!r} 未在 form.sheets 中"
                 for s, r in form.get("sections", {}).items() if r not in sheets]
    problems += [f"{where}：引用了未知输入项 {k!r}" for where, k in _keys_of(form) if k not in known]
    for n, tb in enumerate(form.get("tables", []), 1):
        where = f"form.tables 第{n}项（{tb.get('key')}）"
        if not tb.get("key") or not tb.get("columns"):
            problems.append(f"{where}：缺少 key 或 columns")
        if tb.get("sheet") not in sheets:
            problems.append(f"{where}：工作表 {tb.get('sheet')!r} 未在 form.sheets 中")
        if tb.get("key") in known:
            problems.append(f"{where}：与输入项重名")
    return problems


def parse_facts(form: dict[str, Any]) -> FormFacts:
    """The [form] tables of a linted template."""
    finance = tuple(
        MoneyTable(title=tb["title"], total=tb.get("total"),
                   groups=tuple((g.get("heading"), tuple(g["keys"])) for g in tb.get("groups", [])),
                   keys=tuple(tb.get("keys", [])), note=tb.get("note", ""), header_height=tb.get("header_height"))
        for tb in form.get("finance", []))
    tables = []
    for tb in form.get("tables", []):
        goals = tuple(GoalRow(g.get("content"), g["name"], g.get("help", "")) for g in tb.get("indicators", []))
        tables.append(TextTable(key=tb["key"], sheet=tb["sheet"], columns=tuple(tb["columns"]),
                                rows=int(tb.get("rows", len(goals))), row_label=tb.get("row_label", ""),
                                indicators=goals))
    return FormFacts(
        sheets=dict(form["sheets"]), sections=dict(form.get("sections", {})), finance=finance,
        derived_rows=tuple(DerivedRow(d["key"], d["after"], d.get("note", "")) for d in form.get("derived_rows", [])),
        text_heights=dict(form.get("text_heights", {})), tables=tuple(tables), prefill=dict(form.get("prefill", {})),
        district_money=tuple(form.get("district", {}).get("money", [])),
        headings=dict(form.get("headings", {})), guide=tuple((k, v) for k, v in form.get("guide", {}).get("lines", [])),
        projects_spend=str(form.get("district", {}).get("projects_spend", "")),
    )
