"""The 回收台账: one row per roster unit (and per unit that reported off-roster), from columns only.

Reads no JSON, so the board of a 2,000-unit district is built in milliseconds.  Filtering,
search and sorting live here too, so the web desk and any other front end agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from . import review, rosters
from .form.unit import Unit
from .status import ERRORS, HELD, MISSING, PASSED, UNEXPLAINED
from .store import Store


@dataclass
class BoardRow:
    budget_code: str
    unit_name: str
    parent_dept: str
    state: str  # 未报送 / 待核实 / 有错误 / 有警告未说明 / 通过 (status.py's words)
    total: float | None = None
    grade: str | None = None
    claimed_total: float | None = None
    errors: int = 0
    warnings: int = 0
    unexplained_warnings: int = 0
    submissions: int = 0
    last_upload: str | None = None
    review: str = ""  # 待审核 / 通过 / 退回, "" when nothing to review
    changed: bool = False
    in_roster: bool = True
    submission_id: int | None = None
    held: int = 0  # returns held as 待核实 (identity in doubt) claiming this unit

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BoardCounts:
    due: int = 0  # 应报 (roster units)
    reported: int = 0  # 已报
    missing: int = 0  # 未报
    approved: int = 0  # 通过
    returned: int = 0  # 退回
    pending: int = 0  # 待审核


def board(store: Store, year: int, roster: list[Unit] | None = None) -> list[BoardRow]:
    """Every unit of the year: the roster (saved with rosters.save_roster unless given) plus off-roster reporters."""
    if roster is None:
        roster = rosters.load_roster(store, year) or []
    db = store.db
    stats = {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT budget_code, COUNT(*), MAX(received_at) FROM submissions WHERE status = 'accepted' AND year = ? "
        "AND project_key = '' GROUP BY budget_code", (year,))}
    held = dict(db.execute("SELECT budget_code, COUNT(*) FROM submissions WHERE hold IS NOT NULL AND year = ? "
                           "AND project_key = '' GROUP BY budget_code", (year,)).fetchall())
    decisions = review._decisions(db, year)
    current = {}
    for r in db.execute("SELECT id, budget_code, unit_name, parent_dept, total, cached_total, grade, errors, warnings, "
                        "unexplained_warnings FROM submissions WHERE status = 'accepted' AND is_current = 1 AND year = ? "
                        "AND project_key = ''",
                        (year,)):
        current[r["budget_code"]] = r
    out: list[BoardRow] = []

    def row(code: str, name: str, dept: str, in_roster: bool) -> BoardRow:
        r = current.get(code)
        if r is None:
            return BoardRow(code, name, dept, HELD if held.get(code) else MISSING, in_roster=in_roster,
                            held=held.get(code, 0))
        n, last = stats.get(code, (0, None))
        rv = review.derive(r["id"], decisions.get(code, []))
        state = ERRORS if r["errors"] else (UNEXPLAINED if r["unexplained_warnings"] else PASSED)
        return BoardRow(code, name or r["unit_name"] or "", dept or r["parent_dept"] or "", state, r["total"], r["grade"],
                        r["cached_total"], r["errors"], r["warnings"], r["unexplained_warnings"], n, last, rv.state,
                        rv.changed, in_roster, r["id"], held.get(code, 0))

    seen = set()
    for u in roster:
        seen.add(u.budget_code)
        out.append(row(u.budget_code, u.unit_name, u.parent_dept or "", True))
    for code, r in current.items():
        if code not in seen:
            out.append(row(code, r["unit_name"] or "", r["parent_dept"] or "", False))
    return out


def counts(rows: Iterable[BoardRow]) -> BoardCounts:
    c = BoardCounts()
    for r in rows:
        c.due += r.in_roster
        c.reported += r.state not in (MISSING, HELD)
        c.missing += r.state in (MISSING, HELD)
        c.approved += r.review == review.APPROVED
        c.returned += r.review == review.RETURNED
        c.pending += r.review == review.PENDING
    return c


SORT_KEYS = {
    "code": lambda r: r.budget_code, "name": lambda r: r.unit_name, "dept": lambda r: r.parent_dept,
    "state": lambda r: r.state, "total": lambda r: -1 if r.total is None else r.total,
    "claimed": lambda r: -1 if r.claimed_total is None else r.claimed_total, "grade": lambda r: r.grade or "",
    "errors": lambda r: r.errors, "warnings": lambda r: r.unexplained_warnings, "submissions": lambda r: r.submissions,
    "last": lambda r: r.last_upload or "", "review": lambda r: r.review,
}


def select(rows: list[BoardRow], *, state: str = "", dept: str = "", grade: str = "", review_state: str = "",
           has_errors: bool = False, unexplained: bool = False, q: str = "", sort: str = "code",
           descending: bool = False) -> list[BoardRow]:
    """The rows a filter selects, sorted; unknown filter values select nothing, unknown sort keys sort by code."""
    q = q.strip().lower()
    out = [r for r in rows
           if (not state or r.state == state) and (not dept or r.parent_dept == dept)
           and (not grade or r.grade == grade) and (not review_state or r.review == review_state)
           and (not has_errors or r.errors > 0) and (not unexplained or r.unexplained_warnings > 0)
           and (not q or q in r.budget_code.lower() or q in r.unit_name.lower() or q in r.parent_dept.lower())]
    key = SORT_KEYS.get(sort, SORT_KEYS["code"])
    return sorted(out, key=lambda r: (key(r), r.budget_code), reverse=descending)
