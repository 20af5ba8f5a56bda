"""pandas views of verified returns and stored submissions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from .template import Template, default_template
from .verify import Verification


def indicator_columns(t: Template) -> dict[str, str]:
    """Indicator id -> a unique Chinese column title (duplicated names get their 二级指标 prefixed)."""
    names = [i.name for i in t.indicators]
    return {i.id: (f"{t.group(i.group).name}·{i.name}" if names.count(i.name) > 1 else i.name) for i in t.indicators}


def reports_to_dataframe(reports: Iterable[Verification], template: Template | None = None) -> pd.DataFrame:
    """One row per verified file: identity, every recomputed score, subtotals, total, grade, counts."""
    return records_to_dataframe((v.to_dict() for v in reports), template)


def records_to_dataframe(records: Iterable[dict[str, Any]], template: Template | None = None) -> pd.DataFrame:
    """The same from report dicts (Verification.to_dict() or a store row's report merged with its return)."""
    t = template or default_template()
    rows = []
    for rec in records:
        unit = rec.get("unit") or {}
        row: dict[str, Any] = {
            "file": rec.get("file"), "budget_code": unit.get("budget_code"), "unit_name": unit.get("unit_name"),
            "parent_dept": unit.get("parent_dept"), "year": unit.get("year"),
        }
        scores = {i["id"]: i for i in rec.get("indicators") or []}
        for ind in t.indicators:
            row[f"score_{ind.id}"] = scores.get(ind.id, {}).get("score")
            row[f"na_{ind.id}"] = bool(scores.get(ind.id, {}).get("not_applicable"))
        for k, v in (rec.get("subtotals") or {}).items():
            row[f"subtotal_{k}"] = v
        row.update({"total": rec.get("total"), "grade": rec.get("grade"), "cached_total": rec.get("cached_total"),
                    "errors": rec.get("errors", 0), "warnings": rec.get("warnings", 0)})
        for k, v in (rec.get("computed") or {}).items():
            row[k] = v
        rows.append(row)
    return pd.DataFrame(rows)
