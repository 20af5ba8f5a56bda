"""Each year's roster kept in the store file (table roster_units), so the desk knows who must report."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

from .form.roster import safe_filename
from .form.unit import Unit
from .generate.api import WorkbookFactory
from .store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS roster_units (
    year INTEGER NOT NULL,
    budget_code TEXT NOT NULL,
    unit_name TEXT NOT NULL,
    parent_dept TEXT,
    prefill_json TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (year, budget_code)
);
"""


def ensure_schema(store: Store) -> None:
    store.db.executescript(SCHEMA)


def save_roster(store: Store, year: int, units: list[Unit]) -> None:
    """Replace the year's roster with `units` in one transaction."""
    db = store.db
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("DELETE FROM roster_units WHERE year = ?", (year,))
        db.executemany("INSERT INTO roster_units VALUES (?, ?, ?, ?, ?)",
                       [(year, u.budget_code, u.unit_name, u.parent_dept,
                         json.dumps(u.prefill, ensure_ascii=False, default=str)) for u in units])
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def load_roster(store: Store, year: int) -> list[Unit] | None:
    """The year's roster, or None when none was saved."""
    rows = store.db.execute("SELECT * FROM roster_units WHERE year = ? ORDER BY budget_code", (year,)).fetchall()
    if not rows:
        return None
    return [Unit(r["unit_name"], r["budget_code"], year, r["parent_dept"], json.loads(r["prefill_json"]))
            for r in rows]


def copy_roster(store: Store, from_year: int, to_year: int) -> int:
    """Start `to_year` with `from_year`'s units (identity only: prefilled figures belong to their year)."""
    units = load_roster(store, from_year)
    if not units:
        return 0
    save_roster(store, to_year, [Unit(u.unit_name, u.budget_code, to_year, u.parent_dept) for u in units])
    return len(units)


def years(store: Store) -> list[int]:
    """Every year with a roster or a submission, newest first."""
    rows = store.db.execute("SELECT year FROM roster_units UNION SELECT year FROM submissions WHERE year IS NOT NULL")
    return sorted({int(r[0]) for r in rows}, reverse=True)


def issue(store: Store, units: list[Unit], factory: WorkbookFactory | None = None) -> Iterator[tuple[Unit, bytes]]:
    """Each unit's workbook signed with the store's bureau key; every return_id is registered first.

    Registering before handing out means a download that fails half-way leaves only unused ids behind.
    """
    factory = factory or WorkbookFactory(key=store.key)
    t = factory.template
    ids = [str(uuid.uuid4()) for _ in units]
    store.register([{"return_id": rid, "budget_code": u.budget_code, "unit_name": u.unit_name,
                     "parent_dept": u.parent_dept, "year": u.year, "template_id": t.id,
                     "template_version": t.version, "file": safe_filename(u)} for u, rid in zip(units, ids, strict=True)])
    for u, rid in zip(units, ids, strict=True):
        yield u, factory.build(u, return_id=rid)
