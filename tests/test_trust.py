"""Issue #14: whose return it is, which version is current, and store faults — through the real entry point.

Every forged file is a generated return edited at the zip/XML level (tests/forge.py), as a unit
knowing the public sheet password, or a hurried clerk, would.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from workbook.generate import Unit, WorkbookFactory
from workbook.read import read_return
from workbook.store import Store
from workbook.store_schema import V1

from . import forge
from .conftest import require_soffice, seed_inputs
from .helpers import unit_values

ROOT = Path(__file__).resolve().parent.parent
A = Unit("甲单位", "100001", 2021, "区财政局")
B = Unit("乙单位", "100002", 2021, "区财政局")


def jx(*args, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def codes(res: subprocess.CompletedProcess) -> list[set[str]]:
    return [{f["code"] for f in r["findings"]} for r in json.loads(res.stdout)]


IDENTITY = {"mac_missing", "mac_invalid", "return_id_unknown", "return_id_mismatch", "return_id_reused",
            "identity_missing", "identity_inconsistent", "unsigned_return", "template_modified"}


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


class Bureau:
    """A store whose 2021 workbooks were issued by `jixiao generate --roster`, and the units' filled returns."""

    def __init__(self, tmp: Path, year: int = 2021):
        self.tmp, self.db, self.year = tmp, tmp / "j.sqlite", year
        roster = tmp / f"roster{year}.csv"
        roster.write_text("预算编码,单位名称,主管部门\n100001,甲单位,区财政局\n100002,乙单位,区财政局\n", encoding="utf-8")
        res = jx("generate", "--roster", roster, "--year", year, "--out-dir", tmp / f"issued{year}", "--db", self.db)
        assert res.returncode == 0, res.stderr
        self.issued = {p.name.split("-")[0]: p for p in (tmp / f"issued{year}").iterdir()}
        with Store(self.db) as s:
            self.factory = WorkbookFactory(key=s.key)

    def filled(self, unit: Unit, **changes) -> bytes:
        """The unit's issued workbook filled in and saved (same return_id and MAC, fresh caches)."""
        unit = Unit(unit.unit_name, unit.budget_code, self.year, unit.parent_dept)
        rid = read_return(self.issued[unit.budget_code]).return_id
        return self.factory.build(unit, unit_values({**seed_inputs(), **changes}), return_id=rid)

    def put(self, name: str, data: bytes, folder: str = "in") -> Path:
        p = self.tmp / folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        return p


@pytest.fixture
def bureau(tmp_path) -> Bureau:
    return Bureau(tmp_path)


# -- identity bound to issuance ------------------------------------------------------------------------
def test_generated_returns_carry_a_mac_and_are_registered(bureau):
    ret = read_return(bureau.issued["100001"])
    assert len(ret.meta["mac"]) == 64 and ret.meta_sheet["mac"] == ret.meta["mac"]
    with Store(bureau.db, readonly=True) as s:
        rec = s.issued(ret.return_id)
        assert (rec["budget_code"], rec["year"]) == ("100001", 2021)
        key = s.key
    for p in (bureau.issued["100001"], bureau.issued["100002"]):  # the secret never enters a workbook
        import zipfile

        assert not any(key.encode() in zipfile.ZipFile(p).read(n) for n in zipfile.ZipFile(p).namelist())
    res = jx("verify", bureau.put("a.xlsx", bureau.filled(A)), "--db", bureau.db, "--json")
    assert res.returncode == 0 and not codes(res)[0] & IDENTITY, res.stdout[:2000]


def test_generate_roster_registers_in_the_default_store(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("预算编码,单位名称,主管部门\n100001,甲单位,区财政局\n", encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "cli.main", "generate", "--roster", str(roster), "--year", "2021",
                          "--out-dir", str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert res.returncode == 0, res.stderr
    (issued,) = (tmp_path / "out").iterdir()
    with Store(tmp_path / "jixiao.sqlite", readonly=True) as s:
        assert s.issued(read_return(issued).return_id)["budget_code"] == "100001"


def test_relabelled_return_is_held_and_never_current(bureau):
    good_b = bureau.put("100002-乙单位.xlsx", bureau.filled(B), "first")
    assert jx("collect", good_b.parent, "--db", bureau.db).returncode == 0
    forged = forge.relabel(bureau.filled(A, late_fund_count=0), unit_name=B.unit_name, budget_code=B.budget_code)
    path = bureau.put("100002-乙单位-更正.xlsx", forged)
    res = jx("verify", path, "--db", bureau.db, "--json")
    assert res.returncode == 1 and {"mac_invalid", "return_id_mismatch"} <= codes(res)[0]
    key = bureau.tmp / "bureau.key"
    assert jx("key", "export", "-o", key, "--db", bureau.db).returncode == 0
    res = jx("verify", path, "--key", key, "--json")
    assert res.returncode == 1 and "mac_invalid" in codes(res)[0]
    res = jx("collect", path.parent, "--db", bureau.db, "--json")
    out = json.loads(res.stdout)
    assert res.returncode == 1 and out["counts"]["held"] == 1 and out["held"][0]["file"] == str(path)
    with Store(bureau.db, readonly=True) as s:
        (cur,) = s.current(2021)
        assert cur["source_path"] == str(good_b)
    status = jx("status", "--year", 2021, "--db", bureau.db)
    assert "待核实" in status.stdout and str(path) in status.stdout and "身份签名不符" in status.stdout


def test_redated_workbook_is_caught(tmp_path):
    old = Bureau(tmp_path, year=2020)
    forged = forge.relabel(old.filled(A), year=2021)
    path = old.put("100001-甲单位.xlsx", forged)
    res = jx("verify", path, "--db", old.db, "--json")
    found = codes(res)[0]
    assert res.returncode == 1 and {"mac_invalid", "return_id_mismatch"} <= found
    assert "2020" in res.stdout


@pytest.mark.parametrize("how", ["deleted", "dash"])
def test_identity_properties_missing(bureau, how):
    value = None if how == "deleted" else "-"
    data = forge.set_props(bureau.filled(A), budget_code=value, year=value, return_id=value)
    path = bureau.put("a.xlsx", data)
    res = jx("verify", path, "--json")  # no key needed
    assert res.returncode == 1 and "identity_missing" in codes(res)[0]


def test_metadata_sheet_disagreeing_with_properties(bureau):
    path = bureau.put("a.xlsx", forge.set_meta_sheet(bureau.filled(A), budget_code="100002"))
    res = jx("verify", path, "--json")
    assert res.returncode == 1 and "identity_inconsistent" in codes(res)[0]


def test_stripped_mac_and_unknown_return_id(bureau):
    stripped = bureau.put("a.xlsx", forge.drop_mac(bureau.filled(A)))
    invented = bureau.put("b.xlsx", forge.drop_mac(forge.relabel(bureau.filled(B), return_id=str(uuid.uuid4()))))
    res = jx("verify", stripped, invented, "--db", bureau.db, "--json")
    first, second = codes(res)
    assert "mac_missing" in first and {"mac_missing", "return_id_unknown"} <= second
    res = jx("collect", bureau.tmp / "in", "--db", bureau.db, "--json")
    assert json.loads(res.stdout)["counts"]["held"] == 2 and res.returncode == 1
    with Store(bureau.db, readonly=True) as s:
        assert s.current(2021) == []


def test_one_return_id_cannot_be_two_units_current(tmp_path):
    """Workbooks issued before the register (no MAC): the store still refuses a shared return_id."""
    legacy = WorkbookFactory()
    a = legacy.build(A, unit_values(seed_inputs()))
    rid = read_return(_write(tmp_path / "x" / "a.xlsx", a)).return_id
    b = forge.relabel(legacy.build(B, unit_values(seed_inputs())), return_id=rid)
    _write(tmp_path / "in" / "1-a.xlsx", a)
    _write(tmp_path / "in" / "2-b.xlsx", b)
    res = jx("collect", tmp_path / "in", "--db", tmp_path / "j.sqlite", "--json", "--workers", 1)
    out = json.loads(res.stdout)
    assert out["counts"]["new"] == 1 and out["counts"]["held"] == 1, out
    assert "另一单位" in out["held"][0]["reason"]


def test_prechange_workbook_verifies_with_a_warning(tmp_path):
    path = _write(tmp_path / "in" / "old.xlsx", forge.drop_mac(WorkbookFactory().build(A, unit_values(seed_inputs()))))
    res = jx("verify", path, "--json")
    assert res.returncode == 0 and not codes(res)[0] & IDENTITY, res.stdout[:1500]
    db = tmp_path / "j.sqlite"
    with Store(db) as s:  # after the upgrade, one late unit of the same year got a signed workbook
        s.register([{"return_id": str(uuid.uuid4()), "budget_code": "100009", "year": 2021, "template_id": "x",
                     "template_version": "1"}])
    res = jx("verify", path, "--db", db, "--json")
    assert res.returncode == 0 and codes(res)[0] & IDENTITY == {"unsigned_return"}
    assert "启用签名之前" in res.stdout
    res = jx("collect", path.parent, "--db", db, "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["counts"]["new"] == 1
    posing = _write(tmp_path / "posing.xlsx", forge.relabel(path.read_bytes(), budget_code="100009", unit_name="丙单位"))
    res = jx("verify", posing, "--db", db, "--json")  # claiming the unit that was issued a signed workbook
    assert res.returncode == 1 and "mac_missing" in codes(res)[0]


# -- which version is current ---------------------------------------------------------------------------
def test_current_is_newest_by_save_time_not_file_name(bureau):
    stale = forge.set_saved(bureau.filled(A, late_fund_count=2), "2022-03-01T08:00:00Z")
    fixed = forge.set_saved(bureau.filled(A), "2022-03-02T09:30:00Z")
    bureau.put("100001-甲单位.xlsx", stale)
    corrected = bureau.put("100001-甲单位 (1).xlsx", fixed)  # a browser's name for the second download
    res = jx("collect", bureau.tmp / "in", "--db", bureau.db, "--json", "--workers", 1)
    out = json.loads(res.stdout)
    assert res.returncode == 0, res.stdout
    assert out["versions_in_batch"] == [{"unit": "100001/2021", "files": sorted(out["versions_in_batch"][0]["files"])}]
    assert len(out["versions_in_batch"][0]["files"]) == 2
    assert out["older"] and out["older"][0]["current"] == str(corrected)
    with Store(bureau.db, readonly=True) as s:
        (cur,) = s.current(2021)
        assert cur["source_path"] == str(corrected) and cur["total"] == 100
    text = jx("collect", bureau.put("again.xlsx", stale, "later"), "--db", bureau.db)
    assert "重新报送了已收过的旧版本" in text.stdout and str(corrected) in text.stdout
    older = forge.set_saved(bureau.filled(A, late_fund_count=1), "2022-02-01T00:00:00Z")
    res = jx("collect", bureau.put("older.xlsx", older, "later2"), "--db", bureau.db, "--json")
    out = json.loads(res.stdout)
    assert out["counts"]["older"] == 1 and out["older"][0]["current"] == str(corrected)
    newer = forge.set_saved(bureau.filled(A, late_fund_count=3), "2022-04-01T00:00:00Z")
    res = jx("collect", bureau.put("newer.xlsx", newer, "later3"), "--db", bureau.db, "--json")
    out = json.loads(res.stdout)
    assert out["superseded"] and out["superseded"][0]["old"] == str(corrected)


def test_history_and_clerk_choice_is_logged(bureau):
    first = bureau.put("a1.xlsx", forge.set_saved(bureau.filled(A, late_fund_count=2), "2022-03-01T08:00:00Z"))
    second = bureau.put("a2.xlsx", forge.set_saved(bureau.filled(A), "2022-03-02T08:00:00Z"))
    forged = bureau.put("a3.xlsx", forge.relabel(bureau.filled(B), unit_name=A.unit_name, budget_code=A.budget_code))
    jx("collect", bureau.tmp / "in", "--db", bureau.db)
    hist = json.loads(jx("history", "100001", "--db", bureau.db, "--json").stdout)
    by_path = {h["source_path"]: h for h in hist["submissions"]}
    assert by_path[str(second)]["is_current"] == 1 and by_path[str(forged)]["hold"]
    res = jx("use", "100001", by_path[str(first)]["id"], "--db", bureau.db)
    assert res.returncode == 0, res.stderr
    res = jx("use", "100001", by_path[str(forged)]["id"], "--db", bureau.db)
    assert res.returncode == 2 and "待核实" in res.stderr
    hist = json.loads(jx("history", "100001", "--db", bureau.db, "--json").stdout)
    assert {h["source_path"]: h["is_current"] for h in hist["submissions"]}[str(first)] == 1
    (choice,) = hist["choices"]
    assert choice["submission_id"] == by_path[str(first)]["id"] and choice["previous_id"] == by_path[str(second)]["id"]
    assert "选择记录" in jx("history", "100001", "--db", bureau.db).stdout


# -- store and command faults -----------------------------------------------------------------------------
def test_consolidate_refuses_to_overwrite_the_store(bureau):
    jx("collect", bureau.put("a.xlsx", bureau.filled(A)).parent, "--db", bureau.db)
    before = sha(bureau.db)
    res = jx("consolidate", "--year", 2021, "--db", bureau.db, "-o", bureau.db)
    assert res.returncode == 2 and "数据库" in res.stderr and "Traceback" not in res.stderr
    assert sha(bureau.db) == before
    other = bureau.tmp / "notes.txt"
    other.write_text("备忘", encoding="utf-8")
    res = jx("consolidate", "--year", 2021, "--db", bureau.db, "-o", other)
    assert res.returncode == 2 and other.read_text(encoding="utf-8") == "备忘"


def test_newer_or_changed_schema_is_refused_unchanged(tmp_path):
    inbox = tmp_path / "in"
    _write(inbox / "a.xlsx", WorkbookFactory().build(A, unit_values(seed_inputs())))
    newer, changed = tmp_path / "newer.sqlite", tmp_path / "changed.sqlite"
    for db in (newer, changed):
        Store(db).close()
    _sql(newer, "INSERT INTO schema_migrations VALUES (99, 'future', '2030-01-01')")
    _sql(changed, "ALTER TABLE submissions RENAME COLUMN grade TO level")
    for db, words in ((newer, "更新版本"), (changed, "结构被改动过")):
        before = sha(db)
        for args in (("collect", inbox), ("status", "--year", 2021)):
            res = jx(*args, "--db", db)
            assert res.returncode == 2 and words in res.stderr and "Traceback" not in res.stderr, res.stderr
        assert sha(db) == before


def test_another_applications_sqlite_is_left_alone(tmp_path):
    other = tmp_path / "crm.sqlite"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        c.execute("INSERT INTO customers VALUES (1, '张三')")
    before = sha(other)
    inbox = tmp_path / "in"
    _write(inbox / "a.xlsx", WorkbookFactory().build(A, unit_values(seed_inputs())))
    for args in (("collect", inbox), ("status", "--year", 2021), ("generate", "-o", tmp_path / "x.xlsx",
                                                                   "--unit-name", "x", "--budget-code", "1",
                                                                   "--year", 2021)):
        res = jx(*args, "--db", other)
        assert res.returncode == 2 and "不是 jixiao 数据库" in res.stderr, (args, res.stderr)
    assert sha(other) == before and not Path(str(other) + "-wal").exists()
    with sqlite3.connect(other) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["customers"]


def test_readers_do_not_wait_and_writers_say_the_store_is_busy(bureau):
    jx("collect", bureau.put("a.xlsx", bureau.filled(A)).parent, "--db", bureau.db)
    holder = sqlite3.connect(bureau.db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer in the middle of a long transaction
    try:
        start = time.monotonic()
        res = jx("status", "--year", 2021, "--db", bureau.db)
        assert res.returncode == 0 and "甲单位" in res.stdout, res.stderr
        res = jx("history", "100001", "--db", bureau.db)
        assert res.returncode == 0
        assert time.monotonic() - start < 20
        res = jx("collect", bureau.put("b.xlsx", bureau.filled(B), "more").parent, "--db", bureau.db,
                 env={"JIXIAO_BUSY_TIMEOUT": "1"})
        assert res.returncode == 2 and "正被另一个程序" in res.stderr and "Traceback" not in res.stderr
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_read_only_store_file(bureau):
    jx("collect", bureau.put("a.xlsx", bureau.filled(A)).parent, "--db", bureau.db)
    before = sha(bureau.db)
    bureau.db.chmod(0o444)
    try:
        res = jx("status", "--year", 2021, "--db", bureau.db)
        assert res.returncode == 0 and "甲单位" in res.stdout
        res = jx("consolidate", "--year", 2021, "--db", bureau.db, "-o", bureau.tmp / "d.xlsx",
                 "--csv", bureau.tmp / "csv")
        assert res.returncode == 0, res.stderr
    finally:
        bureau.db.chmod(0o644)
    assert sha(bureau.db) == before
    import zipfile

    with Store(bureau.db, readonly=True) as s:
        key = s.key.encode()
    exported = zipfile.ZipFile(bureau.tmp / "d.xlsx")  # the secret never enters an export
    assert not any(key in exported.read(n) for n in exported.namelist())
    assert not any(key in p.read_bytes() for p in (bureau.tmp / "csv").iterdir())


def test_rejections_are_per_file_and_remembered(bureau):
    inbox = bureau.tmp / "in"
    inbox.mkdir()
    (inbox / "100001-甲单位.xlsx").write_bytes(b"")
    (inbox / "100002-乙单位.xlsx").write_bytes(b"")
    res = jx("collect", inbox, "--db", bureau.db, "--json")
    out = json.loads(res.stdout)
    assert res.returncode == 2 and out["counts"]["rejected"] == 2
    assert {r["file"] for r in out["rejected"]} == {str(inbox / "100001-甲单位.xlsx"), str(inbox / "100002-乙单位.xlsx")}
    res = jx("collect", inbox, "--db", bureau.db)
    assert res.stdout.count("之前已拒收") == 2
    status = jx("status", "--year", 2021, "--db", bureau.db).stdout
    assert "100001-甲单位.xlsx" in status and "100002-乙单位.xlsx" in status
    (inbox / "100001-甲单位.xlsx").write_bytes(bureau.filled(A))  # the unit sends a good file
    jx("collect", inbox, "--db", bureau.db)
    status = jx("status", "--year", 2021, "--db", bureau.db).stdout
    assert "100001-甲单位.xlsx：" not in status and "100002-乙单位.xlsx" in status


def test_huge_file_refused_by_its_size_before_reading(tmp_path):
    big = tmp_path / "big.xlsx"
    with big.open("wb") as fh:
        fh.truncate(600 * 1024 * 1024)  # sparse: costs no disk
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(r.returncode); print(r.stdout); "
             "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    for cmd in ("verify", "collect"):
        extra = ["--db", str(tmp_path / "j.sqlite")] if cmd == "collect" else []
        res = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "cli.main", cmd, str(big), *extra],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert "文件过大" in res.stdout, res.stdout
        maxrss_kib = int(res.stdout.rsplit("MAXRSS", 1)[1])
        assert maxrss_kib < 400 * 1024, maxrss_kib


def test_full_disk_says_so_and_keeps_the_store_consistent(tmp_path):
    inbox = tmp_path / "in"
    factory = WorkbookFactory()
    for i in range(40):
        _write(inbox / f"{i}.xlsx", factory.build(Unit(f"单位{i}", f"{300000 + i}", 2021, "局"),
                                                 unit_values(seed_inputs())))
    db = tmp_path / "j.sqlite"
    Store(db).close()
    limit = db.stat().st_size + 200 * 1024

    def small_disk():  # the file-size limit stands in for a full disk: writes beyond it fail
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    res = subprocess.run([sys.executable, "-m", "cli.main", "collect", str(inbox), "--db", str(db), "--workers", "1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=small_disk)
    assert res.returncode in (1, 2) and "磁盘空间不足" in res.stderr and "Traceback" not in res.stderr, res.stderr
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = c.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
        assert 0 < stored < 40
        assert c.execute("SELECT COUNT(*) FROM sightings").fetchone()[0] == stored
    res = jx("collect", inbox, "--db", db, "--workers", 1, "--json")  # space again: the rest is collected
    out = json.loads(res.stdout)
    assert out["counts"]["duplicate"] == stored and out["counts"]["new"] == 40 - stored


def test_version_1_store_is_migrated(tmp_path):
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as c:
        c.executescript(V1)
        c.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        c.execute("INSERT INTO submissions (sha256, received_at, source_path, status, reason) "
                  "VALUES ('x', '2021-01-01', 'mail.xlsx', 'rejected', '不是 .xlsx 文件')")
    res = jx("status", "--year", 2021, "--db", db)
    assert res.returncode == 0 and "mail.xlsx" in res.stdout, res.stderr
    with sqlite3.connect(db) as c:
        assert [r[0] for r in c.execute("SELECT version FROM schema_migrations ORDER BY version")] == [1, 2, 3]
        assert c.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
        assert len(c.execute("SELECT key FROM bureau_key").fetchone()[0]) == 64


def _sql(db: Path, statement: str) -> None:
    c = sqlite3.connect(db)
    c.execute(statement)
    c.commit()
    c.close()  # the last connection checkpoints the WAL into the file


def _write(p: Path, data: bytes) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def test_signed_return_saved_by_libreoffice_keeps_its_identity(bureau):
    """A unit filling the workbook in a real spreadsheet program: the MAC and both identity copies survive."""
    require_soffice()
    from workbook.libreoffice import recalculate

    src = bureau.put("100001-甲单位.xlsx", bureau.filled(A), "typed")
    (saved,) = recalculate([src], bureau.tmp / "saved")
    ret = read_return(saved)
    assert ret.meta["mac"] == read_return(src).meta["mac"] and ret.saved_at
    res = jx("verify", saved, "--db", bureau.db, "--json")
    assert res.returncode == 0 and not codes(res)[0] & IDENTITY, res.stdout[-1500:]


def test_second_bureau_machine_shares_the_key(bureau):
    key = bureau.tmp / "bureau.key"
    assert jx("key", "export", "-o", key, "--db", bureau.db).returncode == 0
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert jx("key", "export", "-o", key, "--db", bureau.db).returncode == 2  # never overwrites
    second = bureau.tmp / "second.sqlite"
    res = jx("key", "import", key, "--db", second)
    assert res.returncode == 0, res.stderr
    path = bureau.put("a.xlsx", bureau.filled(A))
    res = jx("verify", path, "--db", second, "--json")  # issued on the first machine, checked on the second
    assert res.returncode == 0 and not codes(res)[0] & IDENTITY, res.stdout[-1500:]
    forged = bureau.put("b.xlsx", forge.relabel(bureau.filled(A), budget_code="100002", unit_name="乙单位"))
    assert "mac_invalid" in codes(jx("verify", forged, "--db", second, "--json"))[0]
    other = bureau.tmp / "other.key"
    other.write_text("ab" * 32, encoding="ascii")
    res = jx("key", "import", other, "--db", bureau.db)  # the first machine has issued under its own key
    assert res.returncode == 2 and "已用自己的密钥" in res.stderr
