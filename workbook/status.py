"""Submission monitoring: roster against received returns (the unit form), and per-project returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .form.unit import Unit
from .store import Store

if TYPE_CHECKING:
    from .crossform import CrossFinding

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
    projects: int = 0  # current per-project returns (附件3-1) of this unit
    project_errors: int = 0  # of those, how many have errors

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def unit_status(store: Store, year: int, roster: list[Unit] | None = None) -> list[UnitStatus]:
    """One status per roster unit (and per unit that returned without being on the roster)."""
    current = {r["budget_code"]: r for r in store.current(year)}
    counts = dict(store.db.execute(
        "SELECT budget_code, COUNT(*) FROM submissions WHERE hold IS NULL AND year=? AND project_key = '' "
        "GROUP BY budget_code",
        (year,)).fetchall())
    held = dict(store.db.execute(
        "SELECT budget_code, COUNT(*) FROM submissions WHERE hold IS NOT NULL AND year=? AND project_key = '' "
        "GROUP BY budget_code",
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
    projects = {r[0]: (r[1], r[2]) for r in store.db.execute(
        "SELECT budget_code, COUNT(*), SUM(errors > 0) FROM submissions WHERE status = 'accepted' AND is_current = 1 "
        "AND year = ? AND project_key != '' GROUP BY budget_code", (year,))}
    for s in out:
        s.held = held.get(s.budget_code, 0)
        s.projects, s.project_errors = (int(x or 0) for x in projects.get(s.budget_code, (0, 0)))
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


@dataclass
class ProjectStatus:
    """One per-project return (附件3-1): the current one of its key, or one held as 待核实."""

    budget_code: str
    unit_name: str
    project_name: str
    project_code: str
    state: str
    total: float | None = None
    grade: str | None = None
    errors: int = 0
    unexplained_warnings: int = 0
    submissions: int = 0
    file: str | None = None
    submission_id: int | None = None
    hold: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def project_status(store: Store, year: int, form: str) -> list[ProjectStatus]:
    """Every project of `form` (a per-project template id) with a return in `year`: its current return's
    state, or 待核实 when only held returns claim it; ordered by state, then unit and project."""
    db = store.db
    counts = {(r[0], r[1]): r[2] for r in db.execute(
        "SELECT budget_code, project_key, COUNT(*) FROM submissions WHERE template_id = ? AND year = ? "
        "AND hold IS NULL GROUP BY budget_code, project_key", (form, year))}
    out: list[ProjectStatus] = []
    seen = set()
    for r in store.iter_current(year, form):
        seen.add((r["budget_code"], r["project_key"]))
        state = ERRORS if r["errors"] else (UNEXPLAINED if r["unexplained_warnings"] else PASSED)
        out.append(ProjectStatus(r["budget_code"] or "", r["unit_name"] or "", r["project_name"] or "",
                                 r["project_code"] or "", state, r["total"], r["grade"], r["errors"],
                                 r["unexplained_warnings"], counts.get((r["budget_code"], r["project_key"]), 0),
                                 r["source_path"], r["id"]))
    for r in db.execute("SELECT id, budget_code, unit_name, project_name, project_code, project_key, source_path, hold "
                        "FROM submissions WHERE template_id = ? AND year = ? AND hold IS NOT NULL ORDER BY id DESC",
                        (form, year)):
        if (r["budget_code"], r["project_key"]) in seen:
            continue
        seen.add((r["budget_code"], r["project_key"]))
        out.append(ProjectStatus(r["budget_code"] or "", r["unit_name"] or "", r["project_name"] or "",
                                 r["project_code"] or "", HELD, file=r["source_path"], submission_id=r["id"],
                                 hold=r["hold"]))
    return sorted(out, key=lambda s: (ORDER[s.state], s.budget_code, s.project_code or s.project_name))


def cross_form(store: Store, year: int) -> list[CrossFinding] | None:
    """The cross-form findings of a year (each per-project form against the unit form), or None when the
    store holds no current per-project return for the year (the checks need both forms)."""
    from itertools import chain

    from .crossform import cross_form_findings
    from .form.registry import builtin_forms

    row_forms = [f.id for f in builtin_forms() if f.kind == "rows"]
    present = store.db.execute(
        "SELECT 1 FROM submissions WHERE year = ? AND is_current = 1 AND project_key != '' LIMIT 1", (year,)).fetchone()
    if not row_forms or present is None:
        return None
    projects = chain.from_iterable(store.iter_current(year, form=f) for f in row_forms)
    return cross_form_findings(store.iter_current(year), projects)
