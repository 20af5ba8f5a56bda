"""Rosters (CSV or .xlsx): one row per unit → Unit objects, with errors that name the row."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from ..template import Template, default_template
from .api import Unit

REQUIRED_COLUMNS = {"预算编码": "budget_code", "单位名称": "unit_name", "主管部门": "parent_dept"}


class RosterError(Exception):
    """A roster that cannot be used; `problems` name the file, row and column."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}：" + "；".join(problems))


def _read_rows(path: Path) -> list[list[Any]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any openpyxl failure is a bad roster
            raise RosterError(str(path), [f"无法读取 Excel 花名册：{exc}"]) from exc
        ws = wb.worksheets[0]
        ws.reset_dimensions()
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        wb.close()
        return rows
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RosterError(str(path), ["文件编码无法识别（请保存为 UTF-8 或 GBK 编码的 CSV）"])
    return [row for row in csv.reader(io.StringIO(text))]


def _number(text: Any) -> Any:
    if isinstance(text, (int, float)) or text is None:
        return text
    s = str(text).strip()
    if s == "":
        return None
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    if re.fullmatch(r"-?\d*\.\d+", s):
        return float(s)
    return s


def read_roster(path: str | Path, year: int, template: Template | None = None) -> list[Unit]:
    """Units of a roster.  Columns 预算编码, 单位名称, 主管部门 are required; any other column
    named by an input key (or its Chinese label) prefills that input."""
    t = template or default_template()
    p = Path(path)
    if not p.exists():
        raise RosterError(str(p), ["文件不存在"])
    rows = _read_rows(p)
    rows = [r for r in rows if any(c not in (None, "") for c in r)]
    if not rows:
        raise RosterError(str(p), ["花名册是空的"])
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RosterError(str(p), [f"第 1 行（表头）缺少列：{'、'.join(missing)}"])
    by_label = {spec.label: key for key, spec in t.inputs.items()}
    columns: dict[int, str] = {}
    problems = []
    for i, name in enumerate(header):
        if name in REQUIRED_COLUMNS:
            columns[i] = REQUIRED_COLUMNS[name]
        elif name in t.inputs:
            columns[i] = name
        elif name in by_label:
            columns[i] = by_label[name]
        elif name:
            problems.append(f"第 1 行（表头）第 {i + 1} 列“{name}”不是已知的填报项")
    units: list[Unit] = []
    seen: dict[str, int] = {}
    for n, row in enumerate(rows[1:], start=2):
        rec: dict[str, Any] = {}
        for i, key in columns.items():
            value = row[i] if i < len(row) else None
            rec[key] = value.strip() if isinstance(value, str) else value
        code = str(rec.get("budget_code") or "").strip()
        name = str(rec.get("unit_name") or "").strip()
        if isinstance(rec.get("budget_code"), float) and rec["budget_code"].is_integer():
            code = str(int(rec["budget_code"]))
        if not code:
            problems.append(f"第 {n} 行：预算编码为空")
        if not name:
            problems.append(f"第 {n} 行：单位名称为空")
        if code and code in seen:
            problems.append(f"第 {n} 行：预算编码 {code} 与第 {seen[code]} 行重复")
        seen.setdefault(code, n)
        prefill = {k: _number(v) for k, v in rec.items() if k not in ("budget_code", "unit_name", "parent_dept", "year")
                   and v not in (None, "")}
        units.append(Unit(name, code, year, str(rec.get("parent_dept") or "").strip() or None, prefill))
    if problems:
        raise RosterError(str(p), problems)
    return units


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_filename(unit: Unit) -> str:
    """<预算编码>-<单位名称>.xlsx, safe on Windows and Linux."""
    stem = _UNSAFE.sub("_", f"{unit.budget_code}-{unit.unit_name}").strip(" .")
    return (stem[:120] or "unit") + ".xlsx"
