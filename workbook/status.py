"""Submission monitoring: roster against received returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .form.unit import Unit
from .store import Store

MISSING, HELD, ERRORS, UNEXPLAINED, PASSED = "未报送", "待核实", "有错误", "有警告未说明", "通过"
ORDER = {MISSING: 0, HELD: 1, ERRORS: 2, UNEXPLAINED: 3, PASSED: 4}


@dataclass
class UnitStatus:
    budget_code: str
    unit_name: str
    parent_dept: str
    state: str
    total: float | None = None
    grade: str | None = None
    errors: int = 0
    unexplained_warnings: int = 0
    submissions: int = 0
    file: str | None = None
    in_roster: bool = True
    held: int = 0  # returns held as 待核实 (identity in doubt) claiming this unit

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def unit_status(store: Store, year: int, roster: list[Unit] | None = None) -> list[UnitStatus]:
    """One status per roster unit (and per unit that returned without being on the roster)."""
    current = {r["budget_code"]: r for r in store.current(year)}
    counts = dict(store.db.execute(
        "SELECT budget_code, COUNT(*) FROM submissions WHERE hold IS NULL AND year=? GROUP BY budget_code",
        (year,)).fetchall())
    held = dict(store.db.execute(
        "SELECT budget_code, COUNT(*) FROM submissions WHERE hold IS NOT NULL AND year=? GROUP BY budget_code",
        (year,)).fetchall())
    out: list[UnitStatus] = []
    seen = set()
    for u in roster or []:
        seen.add(u.budget_code)
        r = current.get(u.budget_code)
        if r is None:
            state = HELD if held.get(u.budget_code) else MISSING
            out.append(UnitStatus(u.budget_code, u.unit_name, u.parent_dept or "", state))
        else:
            out.append(_from_row(r, counts.get(u.budget_code, 0), True))
    for code, r in current.items():
        if code not in seen:
            out.append(_from_row(r, counts.get(code, 0), roster is None))
    for s in out:
        s.held = held.get(s.budget_code, 0)
    return sorted(out, key=lambda s: (ORDER[s.state], s.budget_code))


def _from_row(r: dict[str, Any], n: int, in_roster: bool) -> UnitStatus:
    state = ERRORS if r["errors"] else (UNEXPLAINED if r["unexplained_warnings"] else PASSED)
    return UnitStatus(r["budget_code"], r["unit_name"] or "", r["parent_dept"] or "", state, r["total"], r["grade"],
                      r["errors"], r["unexplained_warnings"], n, r["source_path"], in_roster)


def years_present(store: Store) -> list[int]:
    """The years with at least one accepted return in the store."""
    rows = store.db.execute(
        "SELECT DISTINCT year FROM submissions WHERE status = 'accepted' AND year IS NOT NULL ORDER BY year")
    return [int(r[0]) for r in rows]
