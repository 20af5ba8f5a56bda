"""Opening the store safely: who owns the file, which schema version it has, versioned migrations.

- A file that is not a jixiao store (another application's SQLite, or not SQLite at all) is refused
  before anything is written to it: no tables added, journal mode untouched.
- A store written by a newer jixiao, or whose tables were changed by hand, is refused.
- Migrations are numbered and recorded in `schema_migrations` (version, name, applied_at), in the
  style of sqlite-utils' migrations; a version 1 store (before the table existed) is recognised by
  its `meta.schema_version`.
- Readers open the file with `mode=ro` and never wait on writers; writers wait a bounded time.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sqlite3
from pathlib import Path


class StoreError(Exception):
    """A store that cannot be opened or written; the message is Chinese and names the file."""


V1 = """
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

V2 = """
CREATE TABLE issued (
    return_id TEXT PRIMARY KEY,
    budget_code TEXT NOT NULL,
    unit_name TEXT,
    parent_dept TEXT,
    year INTEGER NOT NULL,
    template_id TEXT NOT NULL,
    template_version TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    file TEXT
);
CREATE INDEX issued_unit_year ON issued (budget_code, year);
CREATE TABLE bureau_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key TEXT NOT NULL,
    created_at TEXT NOT NULL
);
ALTER TABLE submissions ADD COLUMN hold TEXT;
ALTER TABLE submissions ADD COLUMN saved_at TEXT;
ALTER TABLE submissions ADD COLUMN file_mtime TEXT;
CREATE INDEX submissions_return_id ON submissions (return_id);
CREATE TABLE rejections (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    reason TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    times INTEGER NOT NULL DEFAULT 1,
    replaced_by INTEGER REFERENCES submissions(id)
);
CREATE UNIQUE INDEX rejections_path_hash ON rejections (path, sha256);
CREATE TABLE choices (
    id INTEGER PRIMARY KEY,
    budget_code TEXT NOT NULL,
    year INTEGER,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    previous_id INTEGER REFERENCES submissions(id),
    chosen_at TEXT NOT NULL,
    chosen_by TEXT
);
INSERT INTO rejections (path, sha256, reason, first_seen, last_seen)
    SELECT source_path, sha256, COALESCE(reason, ''), received_at, received_at FROM submissions WHERE status = 'rejected';
DELETE FROM sightings WHERE submission_id IN (SELECT id FROM submissions WHERE status = 'rejected');
DELETE FROM submissions WHERE status = 'rejected';
"""

# Per-project forms (附件3-1): a submission is keyed by (template_id, budget_code, project_key, year);
# project_key is "" for the unit form (附件3-2), so every older row keeps its meaning.
V3 = """
ALTER TABLE submissions ADD COLUMN project_code TEXT;
ALTER TABLE submissions ADD COLUMN project_name TEXT;
ALTER TABLE submissions ADD COLUMN project_key TEXT NOT NULL DEFAULT '';
CREATE INDEX submissions_form_key ON submissions (template_id, budget_code, project_key, year, is_current);
ALTER TABLE issued ADD COLUMN project_code TEXT;
ALTER TABLE issued ADD COLUMN project_name TEXT;
ALTER TABLE issued ADD COLUMN project_key TEXT NOT NULL DEFAULT '';
CREATE INDEX issued_form_unit_year ON issued (template_id, budget_code, year);
ALTER TABLE choices ADD COLUMN template_id TEXT;
ALTER TABLE choices ADD COLUMN project_key TEXT NOT NULL DEFAULT '';
UPDATE choices SET template_id = (SELECT template_id FROM submissions WHERE submissions.id = choices.submission_id)
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "submissions, sightings, meta", V1),
    (2, "issuance register, bureau key, held returns, save times, rejections, choices", V2),
    (3, "per-project forms: project code, name and key on submissions, issued and choices", V3),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]

# What each version must contain: table -> columns (a changed schema is refused, not guessed at).
_V1_TABLES = {
    "submissions": {"id", "sha256", "received_at", "source_path", "status", "reason", "template_id",
                    "template_version", "return_id", "budget_code", "unit_name", "parent_dept", "year", "total",
                    "cached_total", "grade", "errors", "warnings", "unexplained_warnings", "is_current",
                    "superseded_by", "return_json", "report_json"},
    "sightings": {"id", "submission_id", "path", "seen_at", "outcome"},
    "meta": {"key", "value"},
}
EXPECTED = {
    1: _V1_TABLES,
    2: {**_V1_TABLES,
        "submissions": _V1_TABLES["submissions"] | {"hold", "saved_at", "file_mtime"},
        "issued": {"return_id", "budget_code", "unit_name", "parent_dept", "year", "template_id", "template_version",
                   "issued_at", "file"},
        "bureau_key": {"id", "key", "created_at"},
        "rejections": {"id", "path", "sha256", "reason", "first_seen", "last_seen", "times", "replaced_by"},
        "choices": {"id", "budget_code", "year", "submission_id", "previous_id", "chosen_at", "chosen_by"},
        "schema_migrations": {"version", "name", "applied_at"}},
}
_PROJECT = {"project_code", "project_name", "project_key"}
EXPECTED[3] = {**EXPECTED[2],
               "submissions": EXPECTED[2]["submissions"] | _PROJECT,
               "issued": EXPECTED[2]["issued"] | _PROJECT,
               "choices": EXPECTED[2]["choices"] | {"template_id", "project_key"}}
JIXIAO_TABLES = set(EXPECTED[SCHEMA_VERSION])

SQLITE_MAGIC = b"SQLite format 3\x00"


def busy_seconds() -> float:
    """How long a writer waits for another writer (JIXIAO_BUSY_TIMEOUT seconds, default 15)."""
    try:
        return max(0.0, float(os.environ.get("JIXIAO_BUSY_TIMEOUT", "15")))
    except ValueError:
        return 15.0


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def explain(exc: sqlite3.Error, path: Path, waited: float | None = None) -> StoreError:
    """A Chinese StoreError for a SQLite failure: full disk, store in use, damaged file."""
    text = str(exc)
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name == "SQLITE_FULL" or "disk is full" in text:
        return StoreError(f"磁盘空间不足，无法写入数据库 {path}；本次未完成的写入已撤销，数据库保持一致。"
                          "请清理磁盘后重新运行（已收的报表不会重复存储）")
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:
        return StoreError(f"无法写入数据库 {path}（磁盘空间不足或磁盘故障：{text}）；未完成的写入已撤销")
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in text or "busy" in text:
        wait = f"等待 {waited:g} 秒后" if waited else ""
        return StoreError(f"数据库 {path} 正被另一个程序（如另一个 jixiao collect）使用，{wait}仍未释放，请稍后再试")
    if name == "SQLITE_READONLY" or "readonly" in text:
        return StoreError(f"数据库 {path} 是只读的，无法写入")
    return StoreError(f"无法使用数据库 {path}：{text}（文件可能不是 jixiao 数据库或已损坏）")


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def _tables(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def detect_version(db: sqlite3.Connection, path: Path) -> int:
    """The schema version of an opened file (0 = empty database); refuses foreign or changed files."""
    tables = _tables(db)
    if not tables:
        return 0
    if "schema_migrations" in tables:
        row = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        version = int(row[0] or 0)
    elif "meta" in tables and "submissions" in tables:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            version = int(row[0]) if row else 1
        except (TypeError, ValueError):
            raise StoreError(f"数据库 {path} 的结构版本无法识别（{row[0]!r}），不予使用") from None
    else:
        shown = "、".join(sorted(tables)[:6])
        raise StoreError(f"{path} 不是 jixiao 数据库（其中是其他程序的表：{shown}），未作任何改动。"
                         "请用 --db 指定 jixiao 自己的数据库文件")
    if version > SCHEMA_VERSION:
        raise StoreError(f"数据库 {path} 由更新版本的 jixiao 创建（结构版本 {version}，本程序只支持到 {SCHEMA_VERSION}），"
                         "未作任何改动。请升级 jixiao 后再使用")
    expected = EXPECTED.get(version)
    if expected is None:
        raise StoreError(f"数据库 {path} 的结构版本 {version} 无法识别，不予使用")
    problems = []
    for table, cols in expected.items():
        if table not in tables:
            problems.append(f"缺少表 {table}")
            continue
        missing = cols - _columns(db, table)
        if missing:
            problems.append(f"表 {table} 缺少列 {'、'.join(sorted(missing))}")
    if problems:
        raise StoreError(f"数据库 {path} 的结构被改动过（{'；'.join(problems[:5])}），与 jixiao 结构版本 {version} 不符，"
                         "未作任何改动。请使用备份或联系维护人员")
    return version


def check_file_kind(path: Path) -> None:
    """Refuse a non-empty file that is not SQLite before SQLite touches it."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise StoreError(f"无法读取数据库 {path}：{exc.strerror or exc}") from exc
    if head and head != SQLITE_MAGIC:
        raise StoreError(f"{path} 不是 jixiao 数据库（不是 SQLite 文件），未作任何改动。请用 --db 指定数据库文件")


def migrate(db: sqlite3.Connection, path: Path) -> int:
    """Bring a writable store to SCHEMA_VERSION inside one IMMEDIATE transaction; returns the version."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = detect_version(db, path)  # re-read under the write lock: another process may have migrated
        if version == SCHEMA_VERSION:
            db.execute("COMMIT")
            return version
        for number, name, script in MIGRATIONS:
            if number <= version:
                continue
            for statement in _statements(script):
                db.execute(statement)
            if number == 1:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', '1')")
            if number == 2:
                db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                           "applied_at TEXT NOT NULL)")
                db.execute("INSERT INTO schema_migrations VALUES (1, ?, ?)", (MIGRATIONS[0][1], now()))
                db.execute("INSERT INTO bureau_key VALUES (1, ?, ?)", (secrets.token_hex(32), now()))
            if number >= 2:
                db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (number, name, now()))
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(number),))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def connect(path: Path, readonly: bool) -> sqlite3.Connection:
    """A connection: read-only ones by `mode=ro` URI (or `immutable=1` on a read-only file), never waiting long."""
    if readonly:
        uri = path.resolve().as_uri()
        try:
            db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=2, isolation_level=None)
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
                raise
            # a read-only WAL store with no -shm beside it: nobody can be writing it
            db = sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=2, isolation_level=None)
        db.execute("PRAGMA query_only = ON")
        return db
    seconds = busy_seconds()
    db = sqlite3.connect(path, timeout=seconds, isolation_level=None)
    db.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    return db
