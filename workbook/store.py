"""The bureau's embedded store (SQLite, WAL): every collected file, its Return and Report, and history.

- The same file twice (same sha256) is recognised and stored once.
- A newer return of the same unit and year becomes *current*; earlier ones stay as history.
- Every write is one IMMEDIATE transaction, so concurrent collect processes lose nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .verify import Verification

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    source_path TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
    reason TEXT,
    template_id TEXT,
    template_version TEXT,
    return_id TEXT,
    budget_code TEXT,
    unit_name TEXT,
    parent_dept TEXT,
    year INTEGER,
    total REAL,
    cached_total REAL,
    grade TEXT,
    errors INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0,
    unexplained_warnings INTEGER NOT NULL DEFAULT 0,
    is_current INTEGER NOT NULL DEFAULT 0,
    superseded_by INTEGER REFERENCES submissions(id),
    return_json TEXT,
    report_json TEXT
);
CREATE INDEX IF NOT EXISTS submissions_unit_year ON submissions (budget_code, year, is_current);
CREATE TABLE IF NOT EXISTS sightings (
    id INTEGER PRIMARY KEY,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    path TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
SCHEMA_VERSION = "1"

NEW, UPDATED, DUPLICATE, REJECTED = "new", "updated", "duplicate", "rejected"
OUTCOME_ZH = {NEW: "新收", UPDATED: "更新", DUPLICATE: "重复", REJECTED: "拒收"}


class StoreError(Exception):
    """A store that cannot be opened; the message is Chinese and names the file."""


@dataclass
class Stored:
    outcome: str  # new | updated | duplicate | rejected
    submission_id: int
    has_errors: bool


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Store:
    """A jixiao SQLite store.  Library objects only: no printing."""

    def __init__(self, path: str | Path = "jixiao.sqlite", create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"数据库 {self.path} 不存在（先用 jixiao collect 收集报表）")
        try:
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA busy_timeout = 60000")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.executescript(SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"无法打开数据库 {self.path}：{exc}（文件可能不是 jixiao 数据库或已损坏）") from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- writing ---------------------------------------------------------
    def add(self, v: Verification, source_path: str | None = None) -> Stored:
        """Store one verified file in one transaction; returns what happened to it."""
        ret = v.ret
        path = source_path or ret.file
        now = _now()
        data = v.to_dict()
        return_part = {k: data.get(k) for k in ("file", "sha256", "template", "return_id", "unit", "inputs", "notes",
                                                 "explanations", "tables")}
        return_part["cached"] = {k: (x if isinstance(x, (int, float, str, bool)) or x is None else str(x))
                                 for k, x in ret.cached.items()}
        report_part = {k: data.get(k) for k in ("indicators", "subtotals", "computed", "total", "cached_total", "grade",
                                                 "cached_grade", "errors", "warnings", "findings")}
        accepted = v.report is not None
        reason = None
        if not accepted:
            reason = ret.rejected or (v.findings[0].message if v.findings else "无法识别")
        unit = ret.unit or {}
        year = _int(unit.get("year"))
        cur = self.db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            row = cur.execute("SELECT id, status, errors FROM submissions WHERE sha256 = ?", (ret.sha256,)).fetchone()
            if row is not None:
                cur.execute("INSERT INTO sightings (submission_id, path, seen_at, outcome) VALUES (?, ?, ?, ?)",
                            (row["id"], path, now, DUPLICATE))
                cur.execute("COMMIT")
                return Stored(DUPLICATE, row["id"], bool(row["errors"]))
            outcome = REJECTED
            previous = None
            if accepted:
                previous = cur.execute(
                    "SELECT id FROM submissions WHERE budget_code = ? AND year IS ? AND is_current = 1 AND status = 'accepted'",
                    (str(unit.get("budget_code") or ""), year)).fetchone()
                outcome = UPDATED if previous else NEW
            cur.execute(
                """INSERT INTO submissions (sha256, received_at, source_path, status, reason, template_id,
                   template_version, return_id, budget_code, unit_name, parent_dept, year, total, cached_total, grade,
                   errors, warnings, unexplained_warnings, is_current, return_json, report_json)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (ret.sha256 or f"unreadable:{path}", now, path, "accepted" if accepted else "rejected", reason,
                 ret.template_id, ret.template_version, ret.return_id, str(unit.get("budget_code") or "") or None,
                 _text(unit.get("unit_name")), _text(unit.get("parent_dept")), year,
                 data.get("total"), _float(data.get("cached_total")), data.get("grade"), v.count("error"),
                 v.count("warning"), v.count("warning", unexplained=True), 1 if accepted else 0,
                 json.dumps(return_part, ensure_ascii=False, default=str),
                 json.dumps(report_part, ensure_ascii=False, default=str)))
            new_id = cur.lastrowid
            if previous is not None:
                cur.execute("UPDATE submissions SET is_current = 0, superseded_by = ? WHERE id = ?", (new_id, previous["id"]))
            cur.execute("INSERT INTO sightings (submission_id, path, seen_at, outcome) VALUES (?, ?, ?, ?)",
                        (new_id, path, now, outcome))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return Stored(outcome, new_id, v.has_errors)

    # -- reading -----------------------------------------------------------
    def current(self, year: int) -> list[dict[str, Any]]:
        """The current accepted submission of every unit for a year, with its JSON decoded."""
        rows = self.db.execute(
            "SELECT * FROM submissions WHERE status = 'accepted' AND is_current = 1 AND year = ? ORDER BY budget_code",
            (year,)).fetchall()
        return [self._decode(r) for r in rows]

    def iter_current(self, year: int):
        """Like current(), one row at a time (for consolidating thousands of returns in bounded memory)."""
        cur = self.db.execute(
            "SELECT * FROM submissions WHERE status = 'accepted' AND is_current = 1 AND year = ? ORDER BY budget_code",
            (year,))
        for row in cur:
            yield self._decode(row)

    def history(self, budget_code: str, year: int) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM submissions WHERE budget_code = ? AND year = ? ORDER BY id",
                               (budget_code, year)).fetchall()
        return [self._decode(r) for r in rows]

    def rejected(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute(
            "SELECT id, sha256, received_at, source_path, reason FROM submissions WHERE status = 'rejected' ORDER BY id")]

    def counts(self) -> dict[str, int]:
        row = self.db.execute("""SELECT COUNT(*) AS files,
                                 SUM(status = 'accepted') AS accepted, SUM(status = 'rejected') AS rejected,
                                 SUM(is_current) AS current FROM submissions""").fetchone()
        sightings = self.db.execute("SELECT COUNT(*) FROM sightings").fetchone()[0]
        return {k: int(row[k] or 0) for k in ("files", "accepted", "rejected", "current")} | {"sightings": sightings}

    def prior_year_prefill(self, budget_code: str, year: int) -> dict[str, Any]:
        """Inputs of next year's workbook taken from this year's current return: 上年三公经费预算数/决算数, 上年结转."""
        row = self.db.execute(
            "SELECT return_json, report_json FROM submissions WHERE status = 'accepted' AND is_current = 1 "
            "AND budget_code = ? AND year = ?", (budget_code, year)).fetchone()
        if row is None:
            return {}
        ret, rep = json.loads(row["return_json"]), json.loads(row["report_json"])
        inputs, computed = ret.get("inputs") or {}, rep.get("computed") or {}
        out: dict[str, Any] = {}
        if isinstance(inputs.get("sangong_budget"), (int, float)):
            out["sangong_prior_budget"] = inputs["sangong_budget"]
        if isinstance(computed.get("sangong_total"), (int, float)):
            out["sangong_prior_actual"] = computed["sangong_total"]
        if isinstance(inputs.get("balance_accumulated"), (int, float)):
            out["income_carryover"] = inputs["balance_accumulated"]
        return out

    @staticmethod
    def _decode(row: sqlite3.Row) -> dict[str, Any]:
        d = dict(row)
        d["return"] = json.loads(d.pop("return_json") or "{}")
        d["report"] = json.loads(d.pop("report_json") or "{}")
        return d


def _int(v: Any) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _float(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _text(v: Any) -> str | None:
    return None if v in (None, "") else str(v)
