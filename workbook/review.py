"""The bureau's review desk data: an append-only audit log and the 审核 state derived from it.

Kept in the store's SQLite file in tables of its own.  A unit's review state is the latest
decision (通过 / 退回) on its *current* submission; a newer submission puts it back to 待审核
(marked 有变更 when the earlier one had been decided).  Log entries can never be edited
or deleted (triggers refuse it), so a reviewer's comment stays as written.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Any

from .store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    year INTEGER,
    budget_code TEXT,
    submission_id INTEGER,
    sha256 TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_log_unit ON audit_log (year, budget_code, action);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"""

PENDING, APPROVED, RETURNED = "待审核", "通过", "退回"
APPROVE, RETURN = "approve", "return"
DECISIONS = {APPROVE: APPROVED, RETURN: RETURNED}
ACTION_ZH = {"upload": "收表", "dry_run": "试收（只检查）", APPROVE: "通过", RETURN: "退回", "roster": "上传花名册",
             "generate": "生成工作簿", "consolidate": "下载汇总"}
MAX_REASON = 2000


class ReviewError(Exception):
    """A review action that is not allowed now; `status` is the HTTP-like code (404 unknown, 409 conflict, 400 bad)."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class Review:
    state: str  # 待审核 / 通过 / 退回
    changed: bool = False  # a decided return was replaced by a newer submission
    submission_id: int | None = None
    who: str | None = None
    at: str | None = None
    reason: str | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def ensure_schema(store: Store) -> None:
    store.db.executescript(SCHEMA)


def log(store: Store, action: str, who: str, *, year: int | None = None, budget_code: str | None = None,
        submission_id: int | None = None, sha256: str | None = None, detail: str = "") -> int:
    """Append one entry to the audit log (its own transaction)."""
    cur = store.db.execute(
        "INSERT INTO audit_log (at, who, action, year, budget_code, submission_id, sha256, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (_now(), who, action, year, budget_code, submission_id, sha256, detail))
    return int(cur.lastrowid)


def log_many(store: Store, entries: list[dict[str, Any]]) -> None:
    """Append several entries (keys as in `log`) in one transaction."""
    now = _now()
    db = store.db
    db.execute("BEGIN IMMEDIATE")
    try:
        db.executemany(
            "INSERT INTO audit_log (at, who, action, year, budget_code, submission_id, sha256, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(now, e["who"], e["action"], e.get("year"), e.get("budget_code"), e.get("submission_id"), e.get("sha256"),
              e.get("detail", "")) for e in entries])
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _decisions(db: sqlite3.Connection, year: int, budget_code: str | None = None) -> dict[str, list[sqlite3.Row]]:
    """The last two decisions of every unit of a year (newest first)."""
    sql = ("SELECT * FROM audit_log WHERE year = ? AND action IN ('approve', 'return')"
           + (" AND budget_code = ?" if budget_code else "") + " ORDER BY id DESC")
    out: dict[str, list[sqlite3.Row]] = {}
    for row in db.execute(sql, (year, budget_code) if budget_code else (year,)):
        lst = out.setdefault(row["budget_code"], [])
        if len(lst) < 2:
            lst.append(row)
    return out


def derive(current_id: int | None, decisions: list[sqlite3.Row]) -> Review:
    """The review state of a unit whose current submission is `current_id`, given its decisions (newest first)."""
    if current_id is None:
        return Review("")
    if decisions and decisions[0]["submission_id"] == current_id:
        d = decisions[0]
        return Review(DECISIONS[d["action"]], False, current_id, d["who"], d["at"], d["detail"])
    changed = bool(decisions) and decisions[0]["action"] == APPROVE
    return Review(PENDING, changed, current_id)


def reviews(store: Store, year: int) -> dict[str, Review]:
    """Review state of every unit that has a current submission in `year`."""
    decisions = _decisions(store.db, year)
    return {row["budget_code"]: derive(row["id"], decisions.get(row["budget_code"], []))
            for row in store.db.execute("SELECT id, budget_code FROM submissions WHERE status = 'accepted' "
                                        "AND is_current = 1 AND year = ? AND project_key = ''", (year,))}


def review_of(store: Store, year: int, budget_code: str) -> Review:
    row = store.db.execute("SELECT id FROM submissions WHERE status = 'accepted' AND is_current = 1 AND year = ? "
                           "AND budget_code = ? AND project_key = ''", (year, budget_code)).fetchone()
    return derive(row["id"] if row else None, _decisions(store.db, year, budget_code).get(budget_code, []))


def decide(store: Store, year: int, budget_code: str, action: str, who: str, reason: str = "",
           submission_id: int | None = None) -> Review:
    """Approve or return a unit's current submission, in one transaction.

    退回 needs a reason.  Only a 待审核 submission can be decided; a return with errors cannot
    be approved.  `submission_id`, when given, must still be the current one (the page the
    reviewer looked at is not stale).
    """
    if action not in DECISIONS:
        raise ReviewError(f"未知的审核操作“{action}”", 400)
    reason = (reason or "").strip()
    if action == RETURN and not reason:
        raise ReviewError("退回必须填写退回原因", 400)
    if len(reason) > MAX_REASON:
        raise ReviewError(f"审核意见过长（{len(reason)} 字，最多 {MAX_REASON} 字）", 400)
    db = store.db
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute("SELECT id, sha256, errors FROM submissions WHERE status = 'accepted' AND is_current = 1 "
                         "AND year = ? AND budget_code = ? AND project_key = ''", (year, budget_code)).fetchone()
        if row is None:
            raise ReviewError(f"{year} 年度没有预算编码为 {budget_code} 的单位的有效报表", 404)
        if submission_id is not None and submission_id != row["id"]:
            raise ReviewError("该单位在您打开页面后又报送了新版本，请刷新页面后审核最新版本")
        current = derive(row["id"], _decisions(db, year, budget_code).get(budget_code, []))
        if current.state != PENDING:
            raise ReviewError(f"该报表已审核为“{current.state}”，不能再改；单位重新报送后会回到“待审核”")
        if action == APPROVE and row["errors"]:
            raise ReviewError(f"该报表有 {row['errors']} 个错误，不能通过，只能退回")
        db.execute("INSERT INTO audit_log (at, who, action, year, budget_code, submission_id, sha256, detail) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (_now(), who, action, year, budget_code, row["id"],
                                                       row["sha256"], reason))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return review_of(store, year, budget_code)


def entries(store: Store, year: int | None = None, budget_code: str | None = None,
            limit: int | None = None) -> list[dict[str, Any]]:
    """Audit log entries, newest first, optionally for one year and unit."""
    where, args = [], []
    if year is not None:
        where.append("year = ?")
        args.append(year)
    if budget_code is not None:
        where.append("budget_code = ?")
        args.append(budget_code)
    sql = "SELECT * FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [dict(r) | {"action_zh": ACTION_ZH.get(r["action"], r["action"])} for r in store.db.execute(sql, args)]
