"""Test helpers: build filled returns, read named values with openpyxl, compare with the engine."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import openpyxl

from workbook.engine import score
from workbook.form.layout import TABLES
from workbook.generate import Unit, WorkbookFactory

_factory: WorkbookFactory | None = None

SEED_UNIT = Unit("岳阳市岳阳楼区社会保险服务中心", "200009", 2021, "岳阳市岳阳楼区人力资源和社会保障局")


def factory() -> WorkbookFactory:
    global _factory
    if _factory is None:
        _factory = WorkbookFactory()
    return _factory


def unit_values(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs minus the identity the roster prefills (locked cells a clerk cannot type into)."""
    return {k: v for k, v in inputs.items() if k not in ("unit_name", "budget_code", "year", "parent_dept")}


def named_values(path, data_only: bool = True) -> dict[str, Any]:
    wb = openpyxl.load_workbook(path, data_only=data_only)
    out = {}
    for name, dn in wb.defined_names.items():
        dests = list(dn.destinations)
        if len(dests) != 1 or ":" in dests[0][1]:
            continue
        sheet, ref = dests[0]
        out[name] = wb[sheet][ref.replace("$", "")].value
    return out


def expected_named(inputs: dict[str, Any]) -> dict[str, Any]:
    """What every named formula cell must show, according to the Python engine."""
    notes = {k: v for k, v in inputs.items() if k.startswith("note_")}
    raw = {k: v for k, v in inputs.items() if k not in TABLES}
    report = score({**raw, **notes})
    from workbook.formulas import shown_values

    out: dict[str, Any] = shown_values(report_template(), report)
    from workbook.checks import NOT_LIVE, build_checks

    live = {c.id for c in build_checks(report_template()) if c.live}
    out.update({f"audit_{k}": (v if k in live else NOT_LIVE) for k, v in report.audit.items()})
    return out


def report_template():
    from workbook.template import default_template

    return default_template()


def same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, Decimal):
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            return False
        return Decimal(repr(float(actual))).quantize(Decimal("0.01")) == expected.quantize(Decimal("0.01"))
    return actual == expected


def mismatches(actual: dict[str, Any], expected: dict[str, Any], skip: set[str] = frozenset()) -> list[str]:
    return [f"{k}: workbook {actual.get(k)!r} != engine {v!r}" for k, v in expected.items()
            if k not in skip and not same(actual.get(k), v)]
