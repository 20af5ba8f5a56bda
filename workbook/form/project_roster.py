"""Project rosters for row forms (附件3-1): one row per project → Unit objects (project in the prefill)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .roster import (
    HEADER_SCAN_ROWS,
    IGNORED_COLUMNS,
    RosterError,
    _cells,
    _number,
    _read_rows,
    safe_xlsx_name,
)
from .rowform import RowForm
from .unit import Unit

UNIT_COLUMNS = {"预算编码": "budget_code", "单位名称": "unit_name", "主管部门": "parent_dept"}


def _columns(form: RowForm) -> tuple[dict[str, str], dict[str, str]]:
    """(required, optional) header label → key: the unit columns, the project name; code and prefills."""
    required = dict(UNIT_COLUMNS)
    optional: dict[str, str] = {}
    for f in form.identity:
        if f.key in ("budget_code", "unit_name", "parent_dept", "year"):
            continue
        (optional if f.optional else required)[f.label] = f.key
    first = form.funds.rows[0]
    for row in form.funds.rows:
        for col in form.funds.columns:
            key = form.funds.key(row.key, col.key)
            optional[f"{row.label.removeprefix('其中：')}{col.label}"] = key
            optional[key] = key
            if row is first:
                optional.setdefault(col.label, key)  # 年初预算数 alone: the current-year appropriation row
    return required, optional


def read_project_roster(path: str | Path, year: int, form: RowForm) -> list[Unit]:
    """Projects of a roster (CSV or .xlsx): 预算编码, 单位名称, 主管部门, 项目名称 required; 项目编码 and money
    columns (e.g. 年初预算数) optional.  Every problem names its line."""
    p = Path(path)
    if not p.exists():
        raise RosterError(str(p), ["文件不存在"])
    if p.is_dir():
        raise RosterError(str(p), ["这是一个文件夹，请给出项目花名册文件（CSV 或 .xlsx）"])
    required, optional = _columns(form)
    numbered = [(n, r) for n, r in enumerate(_read_rows(p), start=1)
                if any(c is not None and str(c).strip() != "" for c in r)]
    if not numbered:
        raise RosterError(str(p), ["花名册是空的"])
    at = next((i for i, (_, r) in enumerate(numbered[:HEADER_SCAN_ROWS]) if all(c in _cells(r) for c in required)),
              None)
    if at is None:
        raise RosterError(str(p), [f"表头缺少列（必需的列为 {'、'.join(required)}）"])
    header = _cells(numbered[at][1])
    columns: dict[int, str] = {}
    problems: list[str] = []
    for i, name in enumerate(header):
        if name in required:
            columns[i] = required[name]
        elif name in optional:
            columns[i] = optional[name]
        elif name and name not in IGNORED_COLUMNS:
            problems.append(f"表头（第 {numbered[at][0]} 行）第 {i + 1} 列“{name}”不是已知的列")
    units: list[Unit] = []
    seen: dict[tuple[str, str], int] = {}
    for n, row in numbered[at + 1:]:
        rec: dict[str, Any] = {}
        for i, key in columns.items():
            v = row[i] if i < len(row) else None
            rec[key] = v.strip() if isinstance(v, str) else v
        code = rec.get("budget_code")
        code = str(int(code)) if isinstance(code, float) and code.is_integer() else str(code or "").strip()
        name, project = str(rec.get("unit_name") or "").strip(), str(rec.get("project_name") or "").strip()
        for label, value in (("预算编码", code), ("单位名称", name), ("项目名称", project)):
            if not value:
                problems.append(f"第 {n} 行：{label}为空")
        key = (code, str(rec.get("project_code") or project))
        if code and project and key in seen:
            problems.append(f"第 {n} 行：项目“{project}”与第 {seen[key]} 行重复")
        seen.setdefault(key, n)
        prefill: dict[str, Any] = {"project_name": project}
        if rec.get("project_code") not in (None, ""):
            prefill["project_code"] = str(rec["project_code"])
        for k, v in rec.items():
            if k.startswith("funds_") and v not in (None, ""):
                num = _number(v)
                if isinstance(num, str) or (isinstance(num, int | float) and num < 0):
                    problems.append(f"第 {n} 行：“{k}”为 {v!r}，应为不小于 0 的金额（万元）")
                else:
                    prefill[k] = num
        units.append(Unit(name, code, year, str(rec.get("parent_dept") or "").strip() or None, prefill))
    if problems:
        raise RosterError(str(p), problems)
    return units


def project_filename(unit: Unit) -> str:
    """<预算编码>-<单位名称>-<项目名称>.xlsx, safe on Windows and Linux."""
    return safe_xlsx_name(f"{unit.budget_code}-{unit.unit_name}-{unit.prefill.get('project_name', '')}", 150, "project")


def issue_record(unit: Unit, form: RowForm, return_id: str, path: str | Path) -> dict[str, Any]:
    """The issuance-register row (Store.register) of a project workbook written to `path`."""
    return {"return_id": return_id, "budget_code": unit.budget_code, "unit_name": unit.unit_name,
            "parent_dept": unit.parent_dept, "year": unit.year, "template_id": form.id,
            "template_version": form.version, "file": str(path),
            "project_code": unit.prefill.get("project_code"), "project_name": unit.prefill.get("project_name")}
