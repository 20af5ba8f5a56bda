"""Rosters (CSV or .xlsx): one row per unit → Unit objects, with errors that name the row."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from ..template import Template, default_template
from .unit import IDENTITY_KEYS, Unit

REQUIRED_COLUMNS = {"预算编码": "budget_code", "单位名称": "unit_name", "主管部门": "parent_dept"}


class RosterError(Exception):
    """A roster that cannot be used; `problems` name the file, row and column."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}：" + "；".join(problems))


ROSTER_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
IGNORED_COLUMNS = ("序号", "备注")  # common in bureaus' rosters; carry nothing jixiao needs
HEADER_SCAN_ROWS = 10  # the header may sit under a title row or two


def _read_rows(path: Path) -> list[list[Any]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import zipfile

        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise RosterError(str(path), ["无法读取 Excel 花名册：文件损坏或不是 .xlsx 格式"
                                          "（请用 Excel 或 WPS 另存为 .xlsx，或另存为 CSV）"]) from exc
        ws = wb.worksheets[0]
        ws.reset_dimensions()
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        wb.close()
        return rows
    try:
        raw = path.read_bytes()
    except OSError as exc:
        from ..outputs import os_error_zh

        raise RosterError(str(path), [f"无法读取文件：{os_error_zh(exc)}"]) from exc
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise RosterError(str(path), ["这是 Excel 文件而扩展名不是 .xlsx：请把扩展名改为 .xlsx，或另存为 CSV"])
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RosterError(str(path), ["文件编码无法识别（请保存为 UTF-8 或 GBK 编码的 CSV）"])
    head = [line for line in text.splitlines()[:HEADER_SCAN_ROWS + 1] if line.strip()]
    delimiter = "\t" if sum(line.count("\t") for line in head) > sum(line.count(",") for line in head) else ","
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")


def _number(text: Any) -> Any:
    if isinstance(text, (int, float)) or text is None:
        return text
    s = str(text).strip()
    if s == "":
        return None
    if _THOUSANDS.fullmatch(s):  # 1,234.5 as Excel shows it
        s = s.replace(",", "")
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    if re.fullmatch(r"-?\d*\.\d+", s):
        return float(s)
    return s


def _cells(row: list[Any]) -> list[str]:
    return [str(c).strip() if c is not None else "" for c in row]


def _header_index(rows: list[list[Any]]) -> int | None:
    """The first row (of the first few) that holds every required column: title rows above it are skipped."""
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        if all(c in _cells(row) for c in REQUIRED_COLUMNS):
            return i
    return None


def prefill_problems(prefill: dict[str, Any], where: str, template: Template | None = None) -> list[str]:
    """Prefill values that the workbook's validation would refuse (a text for a number, -5 staff, 15.5 staff)."""
    from ..values import Values

    t = template or default_template()
    v = Values(t, prefill)
    return [f"{where}“{t.label(k)}”为 {prefill[k]!r}：{v.invalid[k]}" for k in prefill if k in v.invalid]


def read_roster(path: str | Path, year: int, template: Template | None = None,
                notices: list[str] | None = None) -> list[Unit]:
    """Units of a roster (CSV — comma or tab separated, UTF-8 or GBK — or .xlsx).

    Columns 预算编码, 单位名称, 主管部门 are required; any other column named by an input key
    (or its Chinese label) prefills that input, and its values are checked as the workbook
    would check them.  Title rows above the header are skipped; 序号 and 备注 columns are
    ignored (a line is added to `notices`); `1,234.5` reads as 1234.5.
    """
    t = template or default_template()
    p = Path(path)
    if not p.exists():
        raise RosterError(str(p), ["文件不存在"])
    if p.is_dir():
        raise RosterError(str(p), ["这是一个文件夹，请给出花名册文件（CSV 或 .xlsx）"])
    if p.suffix.lower() in (".xls", ".et", ".ods", ".xlsb"):
        raise RosterError(str(p), [f"不支持 {p.suffix} 格式的花名册：请用 Excel 或 WPS 另存为 .xlsx 或 CSV"])
    numbered = [(n, r) for n, r in enumerate(_read_rows(p), start=1)
                if any(c is not None and str(c).strip() != "" for c in r)]  # (line in the file, row)
    rows = [r for _, r in numbered]
    if not rows:
        raise RosterError(str(p), ["花名册是空的"])
    at = _header_index(rows)
    if at is None:
        best = max(rows[:HEADER_SCAN_ROWS], key=lambda r: sum(c in _cells(r) for c in REQUIRED_COLUMNS))
        found = [c for c in _cells(best) if c]
        missing = [c for c in REQUIRED_COLUMNS if c not in found]
        raise RosterError(str(p), [f"表头缺少列：{'、'.join(missing)}（找到的表头：{'、'.join(found) or '（空）'}；"
                                   f"必需的列为 {'、'.join(REQUIRED_COLUMNS)}）"])
    header = _cells(rows[at])
    header_line = numbered[at][0]
    by_label = {spec.label: key for key, spec in t.inputs.items()}
    columns: dict[int, str] = {}
    problems = []
    ignored = []
    for i, name in enumerate(header):
        if name in REQUIRED_COLUMNS:
            columns[i] = REQUIRED_COLUMNS[name]
        elif name in IGNORED_COLUMNS:
            ignored.append(name)
        elif name in t.inputs:
            columns[i] = name
        elif name in by_label:
            columns[i] = by_label[name]
        elif name:
            problems.append(f"表头（第 {header_line} 行）第 {i + 1} 列“{name}”不是已知的填报项")
    if ignored and notices is not None:
        notices.append(f"花名册 {p.name} 中的“{'”“'.join(ignored)}”列不是填报项，已忽略")
    units: list[Unit] = []
    seen: dict[str, int] = {}
    for n, row in numbered[at + 1:]:
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
        prefill = {k: _number(v) for k, v in rec.items() if k not in IDENTITY_KEYS
                   and v not in (None, "")}
        problems.extend(prefill_problems(prefill, f"第 {n} 行：", t))
        units.append(Unit(name, code, year, str(rec.get("parent_dept") or "").strip() or None, prefill))
    if problems:
        raise RosterError(str(p), problems)
    return units


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_xlsx_name(text: str, limit: int, fallback: str) -> str:
    """`text` as an .xlsx file name safe on Windows and Linux (unsafe characters → _, at most `limit`)."""
    stem = _UNSAFE.sub("_", text).strip(" .")
    return (stem[:limit] or fallback) + ".xlsx"


def safe_filename(unit: Unit) -> str:
    """<预算编码>-<单位名称>.xlsx, safe on Windows and Linux."""
    return safe_xlsx_name(f"{unit.budget_code}-{unit.unit_name}", 120, "unit")
