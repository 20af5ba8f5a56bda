"""The bureau's embedded store (SQLite, WAL): every collected file, its Return and Report, and history.

- The same file twice (same sha256) is recognised and stored once; a rejected file is recorded per
  file (path and hash), so two identical empty files are two rejections.
- A return is keyed by (template_id, budget_code, project_key, year): project_key is "" for the unit
  form (附件3-2) and the project code (else name) for a per-project form (附件3-1), so a unit's 附件3-2
  and each of its projects have their own current return.  The current return of a key is its newest
  by the workbook's own save time (docProps/core.xml modified, then file mtime), never by file name or
  arrival order; a return with an identity error is held (待核实) and never becomes current.  The clerk
  may choose the current one (logged).
- The register of issued workbooks and the bureau key live here (see workbook/identity.py).
- Every write is one IMMEDIATE transaction, so concurrent collect processes lose nothing; writers
  wait a bounded time; readers open the file read-only and never wait.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .identity import Issuance, project_key
from .store_schema import (
    SCHEMA_VERSION,
    StoreError,
    busy_seconds,
    check_file_kind,
    connect,
    detect_version,
    explain,
    migrate,
)
from .store_schema import now as _now
from .verify import Verification

__all__ = ["Store", "StoreError", "Stored", "SCHEMA_VERSION", "OUTCOME_ZH", "ALL_FORMS", "UNIT_FORM_SQL"]

ALL_FORMS = "*"  # history(..., form=ALL_FORMS): the unit form and every per-project form
UNIT_FORM_SQL = "project_key = ''"  # the unit form (附件3-2) rows of `submissions`

NEW, UPDATED, DUPLICATE, REJECTED = "new", "updated", "duplicate", "rejected"
HELD, OLDER = "held", "older"
OUTCOME_ZH = {NEW: "新收", UPDATED: "更新", DUPLICATE: "重复", REJECTED: "拒收", HELD: "待核实", OLDER: "旧版本"}


@dataclass
class Stored:
    outcome: str  # new | updated | duplicate | rejected | held | older
    submission_id: int
    has_errors: bool
    previous: dict[str, Any] | None = None  # the submission this one superseded (updated)
    current: dict[str, Any] | None = None  # the current submission that stays current (older, re-sent older)
    note: str | None = None  # 之前已拒收 / 旧版本重新报送 / the hold reason


def save_key(saved_at: str | None, file_mtime: str | None) -> tuple[str, str]:
    """Order of versions: the workbook's own save time (core.xml), then the file's mtime."""
    primary = (saved_at or "")[:19] or (file_mtime or "")[:19]
    return primary, file_mtime or ""


def mtime_text(path: str | Path) -> str | None:
    try:
        ts = os.stat(path).st_mtime
    except OSError:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


# mutmut: the mutants of this module that survive the suite, each equivalent (README “变异测试”, docs/NOTES-mut.md):
# - add / _reject, 14 mutants: the letter case of a sqlite3.Row key (row["ID"] is row["id"]: Row lookup ignores case);
#   those lines are not marked because their other mutants are killed.
# - __init__ 1/2: the default path "jixiao.sqlite" (callers always pass one); 7: `self.readonly = None` (only read as a
#   truth value, None is as false as False); 17: `readonly=None` passed on (same); 22/27: the path text used only in
#   messages; 25: `<=` in the migration loop (re-running the current migration is a no-op: IF NOT EXISTS / recorded).
# - _write 4: `return True` from __exit__ after a commit (no exception is pending, nothing is swallowed).
# - add 136: `previous` of a held return (unused: a held return never supersedes); 214: `_brief(None)` is None either way;
#   101: the duplicate branch when the key has no current return — unreachable through the API (a non-current, non-held
#   submission was superseded by, or is older than, a current one of its key, and nothing un-currents a key).
# - _project 5: getattr's default (every Return has `row_form`).
class Store:
    """A jixiao SQLite store.  Library objects only: no printing.

    `readonly=True` opens the file with a `mode=ro` URI (status, consolidate, history, verify --db):
    such a connection never writes, never waits on a writer and works on a read-only file.
    """

    def __init__(self, path: str | Path = "jixiao.sqlite", create: bool = True, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        if (readonly or not create) and not self.path.exists():
            raise StoreError(f"数据库 {self.path} 不存在（先用 jixiao collect 收集报表）")
        if self.path.exists():
            if self.path.is_dir():
                raise StoreError(f"{self.path} 是文件夹，不是数据库文件")
            check_file_kind(self.path)
        try:
            if readonly:
                self.db = self._open_readonly()
            else:
                self.db = connect(self.path, readonly=False)
                if detect_version(self.db, self.path) < SCHEMA_VERSION:
                    migrate(self.db, self.path)
                if self.db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise explain(exc, self.path, busy_seconds()) from exc
        self.db.row_factory = sqlite3.Row
        self._key: str | None = None

    def _open_readonly(self) -> sqlite3.Connection:
        db = connect(self.path, readonly=True)
        version = detect_version(db, self.path)
        if version == 0:
            db.close()
            raise StoreError(f"数据库 {self.path} 是空的（先用 jixiao collect 收集报表），未作任何改动")
        if version < SCHEMA_VERSION:  # an older store: upgrade it once, then read
            db.close()
            if not os.access(self.path, os.W_OK):
                raise StoreError(f"数据库 {self.path} 是旧版本结构，且文件只读，无法升级；请先在可写的位置运行一次 jixiao collect")
            Store(self.path, create=False).close()
            db = connect(self.path, readonly=True)
            detect_version(db, self.path)
        return db

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the bureau key and the register of issued workbooks ----------------
    @property
    def key(self) -> str:
        """The bureau key (hex).  Never printed, logged or exported except by `jixiao key export`."""
        if self._key is None:
            self._key = self.db.execute("SELECT key FROM bureau_key WHERE id = 1").fetchone()[0]
        return self._key

    def set_key(self, key: str) -> None:
        """Adopt another bureau machine's key (only while this store has issued nothing under its own)."""
        bytes.fromhex(key)
        with self._write() as cur:
            if cur.execute("SELECT key FROM bureau_key WHERE id = 1").fetchone()[0] == key:
                return
            if cur.execute("SELECT COUNT(*) FROM issued").fetchone()[0]:
                raise StoreError(f"数据库 {self.path} 已用自己的密钥下发过工作簿，不能再换用另一密钥")
            cur.execute("UPDATE bureau_key SET key = ?, created_at = ? WHERE id = 1", (key, _now()))
        self._key = key

    def register(self, rows: Iterable[dict[str, Any]]) -> int:
        """Record issued workbooks (return_id, budget_code, unit_name, parent_dept, year, template_id,
        template_version, file; project_code and project_name for a per-project form) in one transaction."""
        now = _now()
        data = [(r["return_id"], r["budget_code"], r.get("unit_name"), r.get("parent_dept"), int(r["year"]),
                 r["template_id"], r["template_version"], now, r.get("file"), _text(r.get("project_code")),
                 _text(r.get("project_name")), project_key(r.get("project_code"), r.get("project_name")))
                for r in rows]
        with self._write() as cur:
            cur.executemany("INSERT INTO issued (return_id, budget_code, unit_name, parent_dept, year, template_id, "
                            "template_version, issued_at, file, project_code, project_name, project_key) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", data)
        return len(data)

    def issued(self, return_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM issued WHERE return_id = ?", (return_id,)).fetchone()
        return dict(row) if row else None

    def signed_issue(self, budget_code: str, year: int | None, form: str | None = None) -> bool:
        """Was this unit issued a registered (signed) workbook for that year: of the unit form (form=None),
        or of that per-project form (its template id)?"""
        # mutmut: SQLite reads column names in any letter case, so the case mutants of these SQL pieces are alike
        where, args = ("template_id = ?", (form,)) if form else ("project_key = ''", ())  # pragma: no mutate
        return self.db.execute(f"SELECT 1 FROM issued WHERE budget_code = ? AND year IS ? AND {where} LIMIT 1",
                               (budget_code, year, *args)).fetchone() is not None

    def current_owner(self, return_id: str, budget_code: str, project: str = "") -> str | None:
        """The other unit (and project) whose current return this return_id already is, if any."""
        row = self.db.execute(
            "SELECT budget_code, project_key, project_name FROM submissions WHERE return_id = ? AND is_current = 1 "
            "AND (budget_code IS NOT ? OR project_key IS NOT ?) LIMIT 1", (return_id, budget_code, project)).fetchone()
        if row is None:
            return None
        if not row[1]:
            return row[0]
        return f"预算编码 {row[0]}，项目 {row[2] or row[1]}"

    def issuance(self) -> Issuance:
        """The identity-check context: key, register, current returns."""
        return Issuance(self.key, self.issued, self.signed_issue, self.current_owner)

    # -- writing ---------------------------------------------------------
    def _write(self):
        store = self

        class _Tx:
            def __enter__(self):
                self.cur = store.db.cursor()
                try:
                    self.cur.execute("BEGIN IMMEDIATE")
                except sqlite3.Error as exc:
                    raise explain(exc, store.path, busy_seconds()) from exc
                return self.cur

            def __exit__(self, kind, exc, tb):
                try:
                    if kind is None:
                        self.cur.execute("COMMIT")
                        return False
                    if store.db.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
                        self.cur.execute("ROLLBACK")
                except sqlite3.Error as err:
                    if store.db.in_transaction:
                        store.db.execute("ROLLBACK")
                    raise explain(err, store.path) from err
                if isinstance(exc, sqlite3.Error):
                    raise explain(exc, store.path) from exc
                return False

        return _Tx()

    def add(self, v: Verification, source_path: str | None = None, hold: str | None = None,
            file_mtime: str | None = None) -> Stored:
        """Store one verified file in one transaction; returns what happened to it.

        `hold`: the reason this return's identity is in doubt; it is stored but never made current.
        """
        ret = v.ret
        path = source_path or ret.file
        now = _now()
        if v.report is None:
            # mutmut: a read file always has its sha256, and a file without a report always has its `rejected` reason,
            # so neither the stand-ins after `or` nor the findings fallback are ever used
            return self._reject(path, ret.sha256 or "", ret.rejected or (v.findings[0].message if v.findings else "无法识别"))  # pragma: no mutate
        data = v.to_dict()
        return_part = {k: data.get(k) for k in ("file", "sha256", "template", "return_id", "unit", "inputs", "notes",
                                                 "explanations", "tables")}
        # mutmut: json.dumps(default=str) below turns any other value into its str() as well, so this test is alike
        return_part["cached"] = {k: (x if isinstance(x, (int, float, str, bool)) or x is None else str(x))  # pragma: no mutate
                                 for k, x in ret.cached.items()}
        report_part = {k: data.get(k) for k in ("indicators", "subtotals", "computed", "total", "cached_total", "grade",
                                                 "cached_grade", "errors", "warnings", "findings")}
        unit = ret.unit or {}
        year = _int(unit.get("year"))
        code = str(unit.get("budget_code") or "") or None
        pcode, pname, pkey = _project(ret)
        tid = ret.template_id
        mtime = file_mtime if file_mtime is not None else mtime_text(path)
        with self._write() as cur:
            row = cur.execute("SELECT * FROM submissions WHERE sha256 = ?", (ret.sha256,)).fetchone()
            if row is not None:
                cur.execute("INSERT INTO sightings (submission_id, path, seen_at, outcome) VALUES (?, ?, ?, ?)",
                            (row["id"], path, now, DUPLICATE))
                note, current = None, None
                if not row["is_current"] and row["hold"] is None:
                    cur_row = self._current_row(cur, row["template_id"], row["budget_code"], row["project_key"],
                                                row["year"])
                    if cur_row is not None and cur_row["id"] != row["id"]:
                        current = _brief(cur_row)
                        note = f"重新报送了旧版本（#{row['id']}）；当前仍为 #{cur_row['id']}（{cur_row['source_path']}）"
                return Stored(DUPLICATE, row["id"], bool(row["errors"]), current=current, note=note or row["hold"])
            previous = None if hold else self._current_row(cur, tid, code, pkey, year)
            newer = previous is None or (save_key(ret.saved_at, mtime)
                                         >= save_key(previous["saved_at"], previous["file_mtime"]))
            outcome = HELD if hold else (NEW if previous is None else (UPDATED if newer else OLDER))
            cur.execute(
                """INSERT INTO submissions (sha256, received_at, source_path, status, reason, template_id,
                   template_version, return_id, budget_code, unit_name, parent_dept, year, total, cached_total, grade,
                   errors, warnings, unexplained_warnings, is_current, return_json, report_json, hold, saved_at,
                   file_mtime, project_code, project_name, project_key)
                   VALUES (?, ?, ?, 'accepted', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                           ?)""",
                (ret.sha256, now, path, hold, ret.template_id, ret.template_version, ret.return_id, code,
                 _text(unit.get("unit_name")), _text(unit.get("parent_dept")), year,
                 data.get("total"), _float(data.get("cached_total")), data.get("grade"), v.count("error"),
                 v.count("warning"), v.count("warning", unexplained=True),
                 1 if outcome in (NEW, UPDATED) else 0,
                 # mutmut: ensure_ascii=None is as false as False, so that mutant of the next two lines is alike
                 json.dumps(return_part, ensure_ascii=False, default=str),  # pragma: no mutate
                 json.dumps(report_part, ensure_ascii=False, default=str),  # pragma: no mutate
                 hold, ret.saved_at, mtime, pcode, pname,
                 pkey))
            new_id = cur.lastrowid
            if outcome == UPDATED:
                cur.execute("UPDATE submissions SET is_current = 0, superseded_by = ? WHERE id = ?",
                            (new_id, previous["id"]))
            elif outcome == OLDER:
                cur.execute("UPDATE submissions SET superseded_by = ? WHERE id = ?", (previous["id"], new_id))
            if not hold:
                cur.execute("UPDATE rejections SET replaced_by = ? WHERE path = ? AND replaced_by IS NULL",
                            (new_id, path))
            cur.execute("INSERT INTO sightings (submission_id, path, seen_at, outcome) VALUES (?, ?, ?, ?)",
                        (new_id, path, now, outcome))
        prev = _brief(previous) if previous is not None else None
        return Stored(outcome, new_id, v.has_errors, previous=prev if outcome == UPDATED else None,
                      current=prev if outcome == OLDER else None, note=hold)

    def _reject(self, path: str, sha256: str, reason: str) -> Stored:
        now = _now()
        with self._write() as cur:
            row = cur.execute("SELECT id FROM rejections WHERE path = ? AND sha256 = ?", (path, sha256)).fetchone()
            if row is not None:
                cur.execute("UPDATE rejections SET last_seen = ?, times = times + 1, reason = ? WHERE id = ?",
                            (now, reason, row["id"]))
                return Stored(REJECTED, row["id"], True, note="之前已拒收")
            cur.execute("INSERT INTO rejections (path, sha256, reason, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)",
                        (path, sha256, reason, now, now))
            return Stored(REJECTED, cur.lastrowid, True)

    @staticmethod
    def _current_row(cur, template_id: str | None, code: str | None, project: str, year: int | None
                     ) -> sqlite3.Row | None:
        """The current submission of one key (template_id, budget_code, project_key, year)."""
        return cur.execute("SELECT * FROM submissions WHERE template_id IS ? AND budget_code IS ? AND project_key = ? "
                           "AND year IS ? AND is_current = 1", (template_id, code, project, year)).fetchone()

    def use(self, budget_code: str, submission_id: int, chosen_by: str | None = None) -> dict[str, Any]:
        """Make a submission the current return of its key (the unit's 附件3-2, or one project's 附件3-1:
        the clerk's choice), and log the choice."""
        with self._write() as cur:
            row = cur.execute("SELECT * FROM submissions WHERE id = ?", (submission_id,)).fetchone()
            if row is None:
                raise StoreError(f"数据库中没有编号为 {submission_id} 的报送")
            if row["budget_code"] != budget_code:
                raise StoreError(f"报送 #{submission_id} 属于预算编码 {row['budget_code']}，不是 {budget_code}")
            if row["hold"]:
                raise StoreError(f"报送 #{submission_id} 身份待核实（{row['hold']}），不能作为当前报表")
            previous = self._current_row(cur, row["template_id"], budget_code, row["project_key"], row["year"])
            if previous is not None and previous["id"] != submission_id:
                cur.execute("UPDATE submissions SET is_current = 0, superseded_by = ? WHERE id = ?",
                            (submission_id, previous["id"]))
            cur.execute("UPDATE submissions SET is_current = 1, superseded_by = NULL WHERE id = ?", (submission_id,))
            cur.execute("INSERT INTO choices (budget_code, year, submission_id, previous_id, chosen_at, chosen_by, "
                        "template_id, project_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (budget_code, row["year"], submission_id, previous["id"] if previous is not None else None,
                         _now(), chosen_by, row["template_id"], row["project_key"]))
        return {"submission": _brief(row), "previous": _brief(previous) if previous is not None else None}

    # -- reading -----------------------------------------------------------
    def current(self, year: int, form: str | None = None) -> list[dict[str, Any]]:
        """The current accepted submission of every unit (form=None: the unit form, 附件3-2) or of every
        project (form=a per-project template id, e.g. "jixiao.xiangmu") for a year, with its JSON decoded."""
        return list(self.iter_current(year, form))

    def iter_current(self, year: int, form: str | None = None):
        """Like current(), one row at a time (for consolidating thousands of returns in bounded memory);
        ordered by budget_code (and project_key)."""
        where, args = _form_where(form)
        cur = self.db.execute(
            f"SELECT * FROM submissions WHERE status = 'accepted' AND is_current = 1 AND year = ? AND {where} "
            "ORDER BY budget_code, project_key", (year, *args))
        for row in cur:
            yield self._decode(row)

    def history(self, budget_code: str, year: int | None = None, form: str | None = None) -> list[dict[str, Any]]:
        """A unit's submissions, oldest first: form=None the unit form only, ALL_FORMS every form, or one form."""
        where, args = (("1", ()) if form == ALL_FORMS else _form_where(form))
        rows = self.db.execute(f"SELECT * FROM submissions WHERE budget_code = ? AND (? IS NULL OR year = ?) AND {where} "
                               "ORDER BY id", (budget_code, year, year, *args)).fetchall()
        return [self._decode(r) for r in rows]

    def choices(self, budget_code: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM choices WHERE budget_code = ? ORDER BY id",
                                                 (budget_code,))]

    def held(self, year: int | None = None) -> list[dict[str, Any]]:
        """Returns held as 待核实 (identity errors), newest first."""
        return [dict(r) for r in self.db.execute(
            "SELECT id, received_at, source_path, budget_code, unit_name, year, return_id, hold, template_id, "
            "project_name, project_key FROM submissions "
            "WHERE hold IS NOT NULL AND (? IS NULL OR year = ?) ORDER BY id DESC", (year, year))]

    def rejected(self, outstanding: bool = False) -> list[dict[str, Any]]:
        """Rejected files (path, hash, reason, times seen); `outstanding`: not yet replaced by a good return."""
        where = "WHERE replaced_by IS NULL" if outstanding else ""
        return [dict(r) for r in self.db.execute(
            f"SELECT id, path AS source_path, sha256, reason, first_seen, last_seen, times, replaced_by "
            f"FROM rejections {where} ORDER BY id")]

    def counts(self) -> dict[str, int]:
        row = self.db.execute("""SELECT COUNT(*) AS files, SUM(hold IS NULL) AS accepted, SUM(hold IS NOT NULL) AS held,
                                 SUM(is_current) AS current FROM submissions""").fetchone()
        sightings = self.db.execute("SELECT COUNT(*) FROM sightings").fetchone()[0]
        rejected = self.db.execute("SELECT COUNT(*) FROM rejections").fetchone()[0]
        # mutmut: sqlite3.Row looks column names up in any letter case, so case changes of these names are alike
        return {k: int(row[k] or 0) for k in ("files", "accepted", "held", "current")} | {  # pragma: no mutate
            "sightings": sightings, "rejected": rejected}

    def prior_year_prefill(self, budget_code: str, year: int, template: Any = None) -> dict[str, Any]:
        """Inputs of next year's workbook taken from this year's current return (the template's [form.prefill])."""
        row = self.db.execute(
            "SELECT return_json, report_json FROM submissions WHERE status = 'accepted' AND is_current = 1 "
            f"AND budget_code = ? AND year = ? AND {UNIT_FORM_SQL}", (budget_code, year)).fetchone()
        if row is None:
            return {}
        # mutmut: sqlite3.Row looks column names up in any letter case, so case changes of these names are alike
        ret, rep = json.loads(row["return_json"]), json.loads(row["report_json"])  # pragma: no mutate
        inputs, computed = ret.get("inputs") or {}, rep.get("computed") or {}
        from .template import default_template

        prefill = (template or default_template()).form.prefill  # next year's key -> this year's key
        found = {k: inputs.get(src, computed.get(src)) for k, src in prefill.items()}
        return {k: v for k, v in found.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}

    @staticmethod
    def _decode(row: sqlite3.Row) -> dict[str, Any]:
        d = dict(row)
        # mutmut: every stored submission has both JSON texts, so the "{}" fallbacks are never read
        d["return"] = json.loads(d.pop("return_json") or "{}")  # pragma: no mutate
        d["report"] = json.loads(d.pop("report_json") or "{}")  # pragma: no mutate
        return d


def _brief(row: sqlite3.Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    # mutmut: sqlite3.Row looks column names up in any letter case, so case changes of these names are alike
    return {k: row[k] for k in ("id", "source_path", "budget_code", "year", "saved_at", "file_mtime", "received_at",  # pragma: no mutate
                                "project_key", "project_name")}  # pragma: no mutate


def _form_where(form: str | None) -> tuple[str, tuple[Any, ...]]:
    """SQL selecting one form's submissions: None = the unit form (附件3-2), else that template id."""
    if form is None:
        return UNIT_FORM_SQL, ()
    return "template_id = ?", (form,)  # pragma: no mutate - SQLite reads column names in any letter case


def _project(ret: Any) -> tuple[str | None, str | None, str]:
    """(project_code, project_name, project_key) of a return: all empty for the unit form.

    A per-project return always has a non-empty key: without code and name it falls back to its
    return_id (such a return is flagged by verification and held when signed)."""
    if getattr(ret, "row_form", None) is None:
        return None, None, ""
    unit = ret.unit or {}
    code = _text(unit.get("project_code")) or _text(ret.meta.get("project_code"))
    name = _text(unit.get("project_name")) or _text(ret.meta.get("project_name"))
    key = project_key(code, name) or f"#{ret.return_id or ret.sha256 or ''}"
    return (" ".join(code.split()) if code else None), (" ".join(name.split()) if name else None), key


def _int(v: Any) -> int | None:
    try:
        return int(v)  # None and "" fail like any other non-number
    except (TypeError, ValueError):
        return None


def _float(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _text(v: Any) -> str | None:
    return None if v in (None, "") else str(v)
