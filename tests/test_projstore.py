"""附件3-1 returns in the bureau store, through the real entry point: keyed by (form, unit, project, year),
registered and signed at generation, held when moved to another identity, shown by status and history,
and an old store migrated.

Each unit's return is its issued workbook filled in and saved again (same return_id and MAC, fresh
caches), as tests/test_trust.py does for 附件3-2; forgeries are zip/XML edits (tests/forge.py).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from workbook.fill import fill_return
from workbook.form.rowform import xiangmu_template
from workbook.form.unit import Unit
from workbook.generate import WorkbookFactory
from workbook.generate.rows import RowWorkbookFactory
from workbook.read import read_return
from workbook.store import Store
from workbook.template import known_templates

from . import forge
from .conftest import seed_inputs
from .helpers import unit_values
from .test_rowform_workbook import full, row
from .test_trust import ROOT, jx

FORM = "jixiao.xiangmu"
DATA = Path(__file__).resolve().parent / "data"
PROJECTS = ("预算编码,单位名称,主管部门,项目名称,项目编码,年初预算数\n"
            "100001,甲单位,区财政局,就业培训,XM01,100\n"
            "100001,甲单位,区财政局,信息系统运维,,30\n"
            "100002,乙单位,区财政局,道路养护,XM09,50\n")
UNITS = "预算编码,单位名称,主管部门\n100001,甲单位,区财政局\n100002,乙单位,区财政局\n"
IDENTITY = {"mac_missing", "mac_invalid", "return_id_unknown", "return_id_mismatch", "return_id_reused",
            "identity_missing", "identity_inconsistent", "unsigned_return", "template_modified"}


def _factory(key: str | None) -> RowWorkbookFactory:
    return RowWorkbookFactory(xiangmu_template(), key=key)


class Bureau:
    """A store whose 2021 附件3-2 and 附件3-1 workbooks were issued by `jixiao generate`."""

    def __init__(self, tmp: Path, year: int = 2021):
        self.tmp, self.db, self.year = tmp, tmp / "j.sqlite", year
        (tmp / "projects.csv").write_text(PROJECTS, encoding="utf-8")
        (tmp / "units.csv").write_text(UNITS, encoding="utf-8")
        res = jx("generate", "--form", "xiangmu", "--roster", tmp / "projects.csv", "--year", year, "--out-dir",
                 tmp / "issued-projects", "--db", self.db)
        assert res.returncode == 0, res.stderr
        assert "已登记到数据库" in res.stdout and "签名" in res.stdout
        res = jx("generate", "--roster", tmp / "units.csv", "--year", year, "--out-dir", tmp / "issued-units",
                 "--db", self.db)
        assert res.returncode == 0, res.stderr
        self.projects = {p.stem.split("-", 2)[2]: p for p in (tmp / "issued-projects").iterdir()}
        self.units = {p.name.split("-")[0]: p for p in (tmp / "issued-units").iterdir()}
        with Store(self.db) as s:
            self.key = s.key
        self.rows = _factory(self.key)

    def project(self, name: str, saved: str | None = None, **changes) -> bytes:
        """Project `name`'s issued workbook filled in and saved (same return_id and MAC)."""
        ret = read_return(self.projects[name])
        u = ret.unit
        unit = Unit(u["unit_name"], u["budget_code"], int(u["year"]), u["parent_dept"],
                    {"project_name": u["project_name"], "project_code": u["project_code"] or None})
        data = self.rows.build(unit, {**full(), **changes}, return_id=ret.return_id)
        return forge.set_saved(data, saved) if saved else data

    def unit(self, code: str) -> bytes:
        ret = read_return(self.units[code])
        u = ret.unit
        unit = Unit(u["unit_name"], code, self.year, u["parent_dept"])
        return WorkbookFactory(key=self.key).build(unit, unit_values(seed_inputs()), return_id=ret.return_id)

    def put(self, name: str, data: bytes, folder: str = "in") -> Path:
        p = self.tmp / folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        return p

    def collect(self, folder: str = "in"):
        res = jx("collect", self.tmp / folder, "--db", self.db, "--json", "--workers", 1)
        return res, json.loads(res.stdout)


@pytest.fixture
def bureau(tmp_path) -> Bureau:
    return Bureau(tmp_path)


def _codes(res) -> list[set[str]]:
    return [{f["code"] for f in r["findings"]} for r in json.loads(res.stdout)]


def test_generate_registers_and_signs_every_project_workbook(bureau):
    with Store(bureau.db, readonly=True) as s:
        rows = {r["project_key"]: dict(r) for r in s.db.execute("SELECT * FROM issued WHERE template_id = ?", (FORM,))}
    assert set(rows) == {"XM01", "信息系统运维", "XM09"}
    assert rows["信息系统运维"]["project_name"] == "信息系统运维" and rows["信息系统运维"]["budget_code"] == "100001"
    ret = read_return(bureau.projects["就业培训"])
    assert ret.return_id == rows["XM01"]["return_id"] and len(ret.meta["mac"]) == 64
    assert ret.meta_sheet["mac"] == ret.meta["mac"]
    res = jx("verify", bureau.put("a.xlsx", bureau.project("就业培训")), "--db", bureau.db, "--json")
    assert res.returncode == 0 and not _codes(res)[0] & IDENTITY, res.stdout[:2000]
    key = bureau.tmp / "bureau.key"
    assert jx("key", "export", "-o", key, "--db", bureau.db).returncode == 0
    res = jx("verify", bureau.tmp / "in" / "a.xlsx", "--key", key, "--json")
    assert res.returncode == 0 and not _codes(res)[0] & IDENTITY


def test_both_forms_of_a_unit_are_current_side_by_side(bureau):
    unit_a = bureau.put("100001-甲单位.xlsx", bureau.unit("100001"))
    train = bureau.put("100001-就业培训.xlsx", bureau.project("就业培训"))
    ops = bureau.put("100001-信息系统运维.xlsx", bureau.project(
        "信息系统运维", **row("output", 1, "系统可用率", "≥", 99, 95, 30)))  # below target: 扣分, no error
    road = bureau.put("100002-道路养护.xlsx", bureau.project("道路养护", ind_output_2_points=15))  # points off: error
    res, out = bureau.collect()
    assert res.returncode == 1 and out["counts"]["new"] == 4 and out["counts"]["held"] == 0, out
    fates = {f["file"]: f for f in out["file_fates"]}
    assert fates[str(train)]["project_name"] == "就业培训" and fates[str(train)]["project_code"] == "XM01"
    assert fates[str(train)]["form"] == FORM and fates[str(train)]["outcome"] == "new"
    assert fates[str(ops)]["errors"] == 0 and fates[str(road)]["errors"] > 0
    assert fates[str(unit_a)]["project_name"] is None and fates[str(unit_a)]["form"] == "jixiao.zhengti"
    assert any(u == "乙单位（项目：道路养护）" for _, u in [(e["file"], e["unit_name"]) for e in out["with_errors_files"]])
    with Store(bureau.db, readonly=True) as s:
        (unit_row,) = s.current(2021)  # the unit form only
        assert unit_row["source_path"] == str(unit_a) and unit_row["project_key"] == ""
        projects = s.current(2021, form=FORM)
    assert [(r["budget_code"], r["project_key"]) for r in projects] == [
        ("100001", "XM01"), ("100001", "信息系统运维"), ("100002", "XM09")]
    ops_row = projects[1]
    assert ops_row["total"] < 100 and ops_row["report"]["total"] == ops_row["total"]
    assert ops_row["return"]["inputs"]["ind_output_1_actual"] == 95

    status = jx("status", "--year", 2021, "--db", bureau.db, "--json", "--roster", bureau.tmp / "units.csv")
    by_code = {s["budget_code"]: s for s in json.loads(status.stdout)}
    assert (by_code["100001"]["projects"], by_code["100001"]["project_errors"]) == (2, 0)
    assert (by_code["100002"]["projects"], by_code["100002"]["project_errors"]) == (1, 1)
    assert by_code["100001"]["submissions"] == 1 and by_code["100001"]["state"] == "有警告未说明"
    assert by_code["100002"]["state"] == "未报送"  # a project return is not the unit's 附件3-2
    text = jx("status", "--year", 2021, "--db", bureau.db, "--roster", bureau.tmp / "units.csv")
    assert "附件3-1" in text.stdout and "（有错误 1）" in text.stdout
    assert status.returncode == 0  # 附件3-2 status meaning unchanged: no unit form return has errors

    proj = jx("status", "--year", 2021, "--db", bureau.db, "--form", "xiangmu", "--json")
    listed = {(p["budget_code"], p["project_name"]): p for p in json.loads(proj.stdout)}
    assert proj.returncode == 1 and set(listed) == {("100001", "就业培训"), ("100001", "信息系统运维"),
                                                    ("100002", "道路养护")}
    assert listed[("100002", "道路养护")]["state"] == "有错误" and listed[("100001", "就业培训")]["total"] == 100
    assert listed[("100001", "就业培训")]["grade"] == "优"
    text = jx("status", "--year", 2021, "--db", bureau.db, "--form", "xiangmu").stdout
    assert "信息系统运维" in text and "项目名称" in text and "共 3 个项目、2 个单位" in text

    hist = jx("history", "100001", "--db", bureau.db)
    assert hist.returncode == 0 and "附件3-1（就业培训，XM01）" in hist.stdout and "附件3-2" in hist.stdout
    assert "信息系统运维" in hist.stdout
    items = json.loads(jx("history", "100001", "--db", bureau.db, "--json").stdout)["submissions"]
    assert sorted(i["project_key"] for i in items) == ["", "XM01", "信息系统运维"]

    again, out = bureau.collect()  # the same files again: duplicates, nothing replaced
    assert out["counts"]["duplicate"] == 4 and again.returncode == 0


def test_newer_version_of_a_project_replaces_only_that_project(bureau):
    bureau.put("100001-甲单位.xlsx", bureau.unit("100001"))
    first = bureau.put("train-1.xlsx", bureau.project("就业培训", "2022-03-01T08:00:00Z", funds_current_executed=80))
    other = bureau.put("ops.xlsx", bureau.project("信息系统运维", "2022-03-01T08:00:00Z"))
    res, out = bureau.collect()
    assert out["counts"]["new"] == 3
    newer = bureau.put("train-2.xlsx", bureau.project("就业培训", "2022-03-05T08:00:00Z"), "later")
    res, out = bureau.collect("later")
    assert out["counts"]["updated"] == 1, out
    (sup,) = out["superseded"]
    assert sup["old"] == str(first) and sup["new"] == str(newer) and sup["unit"] == "100001/2021/XM01"
    older = bureau.put("train-0.xlsx", bureau.project("就业培训", "2022-02-01T08:00:00Z", funds_current_executed=50),
                       "late")
    res, out = bureau.collect("late")
    assert out["counts"]["older"] == 1 and out["older"][0]["current"] == str(newer)
    assert out["older"][0]["file"] == str(older) and out["older"][0]["unit"] == "100001/2021/XM01"
    with Store(bureau.db, readonly=True) as s:
        assert len(s.current(2021)) == 1  # the unit's 附件3-2 untouched
        cur = {r["project_key"]: r["source_path"] for r in s.current(2021, form=FORM)}
    assert cur == {"XM01": str(newer), "信息系统运维": str(other)}

    # the clerk chooses the first version of this project: only this project changes
    items = json.loads(jx("history", "100001", "--db", bureau.db, "--json").stdout)["submissions"]
    first_id = next(i["id"] for i in items if i["source_path"] == str(first))
    res = jx("use", "100001", first_id, "--db", bureau.db)
    assert res.returncode == 0 and "就业培训" in res.stdout, res.stderr
    with Store(bureau.db, readonly=True) as s:
        cur = {r["project_key"]: r["source_path"] for r in s.current(2021, form=FORM)}
        assert cur == {"XM01": str(first), "信息系统运维": str(other)}
        assert s.current(2021)[0]["source_path"].endswith("100001-甲单位.xlsx")
        (choice,) = s.choices("100001")
        assert choice["template_id"] == FORM and choice["project_key"] == "XM01"


def _moved(data: bytes, **identity: str) -> bytes:
    """A filled project return made to claim another identity everywhere a unit can reach
    (cells, document properties, metadata sheet); only the MAC cannot be redone without the key."""
    cells = {k: v for k, v in identity.items() if k in ("project_name", "project_code", "unit_name", "budget_code")}
    if "year" in identity:
        cells["year"] = int(identity["year"])
    data = fill_return(data, cells) if cells else data
    data = forge.set_meta_sheet(data, **identity)
    return forge.set_props(data, **identity)


def test_a_project_return_moved_to_another_identity_is_held(bureau):
    good = bureau.project("就业培训")
    ops_rid = read_return(bureau.projects["信息系统运维"]).return_id
    road = read_return(bureau.projects["道路养护"])
    cases = {
        "to-other-project.xlsx": _moved(good, project_name="信息系统运维", project_code=""),
        "renamed-project.xlsx": _moved(good, project_name="别的项目"),
        "to-other-year.xlsx": _moved(good, year="2022"),
        "to-other-unit.xlsx": _moved(good, budget_code="100002", unit_name="乙单位", project_name="道路养护",
                                     project_code="XM09", return_id=road.return_id),
        "other-return-id.xlsx": _moved(good, return_id=ops_rid),
        "unregistered.xlsx": _factory(None).build(Unit("甲单位", "100001", 2021, "区财政局",
                                                       {"project_name": "新项目", "project_code": "XM77"}), full()),
        "forged-key.xlsx": _factory("11" * 32).build(Unit("甲单位", "100001", 2021, "区财政局",
                                                          {"project_name": "就业培训", "project_code": "XM01"}),
                                                     full(), return_id=read_return(bureau.projects["就业培训"]).return_id),
    }
    paths = {name: bureau.put(name, data) for name, data in cases.items()}
    res = jx("verify", *paths.values(), "--db", bureau.db, "--json")
    found = dict(zip(cases, _codes(res), strict=True))
    assert res.returncode == 1
    assert "mac_invalid" in found["to-other-project.xlsx"] and "mac_invalid" in found["renamed-project.xlsx"]
    assert {"mac_invalid", "return_id_mismatch"} <= found["to-other-year.xlsx"]
    assert {"mac_invalid", "return_id_mismatch"} <= found["other-return-id.xlsx"]
    assert "mac_invalid" in found["to-other-unit.xlsx"]
    assert {"mac_missing", "return_id_unknown"} <= found["unregistered.xlsx"]
    assert "mac_invalid" in found["forged-key.xlsx"]
    res, out = bureau.collect()
    assert res.returncode == 1 and out["counts"]["held"] == len(cases) and out["counts"]["new"] == 0, out
    with Store(bureau.db, readonly=True) as s:
        assert s.current(2021, form=FORM) == [] and s.current(2022, form=FORM) == []
    text = jx("status", "--year", 2021, "--db", bureau.db, "--form", "xiangmu")
    assert "待核实" in text.stdout and "身份签名不符" in text.stdout
    assert "项目“信息系统运维”" in jx("status", "--year", 2021, "--db", bureau.db).stdout
    # the genuine return is still taken afterwards, and a held one cannot be chosen
    bureau.put("good.xlsx", good, "good")
    res, out = bureau.collect("good")
    assert res.returncode == 0 and out["counts"]["new"] == 1
    held_id = next(f["submission_id"] for f in json.loads(jx("collect", paths["to-other-project.xlsx"], "--db",
                                                                bureau.db, "--json").stdout)["file_fates"])
    res = jx("use", "100001", held_id, "--db", bureau.db)
    assert res.returncode == 2 and "待核实" in res.stderr


def test_project_workbooks_issued_unsigned(tmp_path):
    """Generated without the store (before signing, or by the library alone): a warning, not a hold, unless
    the unit was issued signed project workbooks that year."""
    unsigned = _factory(None).build(Unit("丙单位", "100003", 2021, "区财政局", {"project_name": "绿化"}), full())
    db = tmp_path / "j.sqlite"
    path = tmp_path / "in" / "p.xlsx"
    path.parent.mkdir()
    path.write_bytes(unsigned)
    with Store(db) as s:
        s.register([{"return_id": str(uuid.uuid4()), "budget_code": "100009", "year": 2021, "template_id": FORM,
                     "template_version": xiangmu_template().version, "project_name": "别的"}])
    res = jx("verify", path, "--db", db, "--json")
    assert res.returncode == 0 and _codes(res)[0] & IDENTITY == {"unsigned_return"}
    res = jx("collect", path.parent, "--db", db, "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["counts"]["new"] == 1
    posing = tmp_path / "posing" / "p.xlsx"
    posing.parent.mkdir()
    posing.write_bytes(_moved(unsigned, budget_code="100009", unit_name="丁单位", project_name="别的"))
    res = jx("verify", posing, "--db", db, "--json")  # claiming a unit issued signed project workbooks
    assert res.returncode == 1 and "mac_missing" in _codes(res)[0]


def test_a_main_store_is_migrated_and_keeps_its_unit_returns(tmp_path):
    """tests/data/store-v2.sqlite was written by jixiao before this change (schema 2): one unit issued,
    its 附件3-2 (tests/data/store-v2-return.xlsx, signed then) collected and chosen by the clerk."""
    db = tmp_path / "old.sqlite"
    shutil.copy(DATA / "store-v2.sqlite", db)
    old_return = tmp_path / "old" / "100001-甲单位.xlsx"
    old_return.parent.mkdir()
    shutil.copy(DATA / "store-v2-return.xlsx", old_return)
    with sqlite3.connect(db) as c:
        assert [r[0] for r in c.execute("SELECT version FROM schema_migrations")] == [1, 2]
        (rid,) = c.execute("SELECT return_id FROM issued").fetchone()
    res = jx("status", "--year", 2021, "--db", db, "--json")
    assert res.returncode == 0, res.stderr
    (unit,) = json.loads(res.stdout)
    assert (unit["budget_code"], unit["state"], unit["projects"]) == ("100001", "有警告未说明", 0)
    with sqlite3.connect(db) as c:
        assert [r[0] for r in c.execute("SELECT version FROM schema_migrations ORDER BY version")] == [1, 2, 3]
        assert c.execute("SELECT project_key, is_current FROM submissions").fetchall() == [("", 1)]
        assert c.execute("SELECT template_id, project_key FROM choices").fetchall() == [("jixiao.zhengti", "")]
        assert c.execute("SELECT project_key FROM issued").fetchall() == [("",)]
    # the old 附件3-2 return and a new project return side by side, the old MAC still good
    with Store(db) as s:
        key = s.key
        s.register([{"return_id": "p-1", "budget_code": "100001", "unit_name": "甲单位", "year": 2021,
                     "template_id": FORM, "template_version": xiangmu_template().version, "project_name": "就业培训",
                     "project_code": "XM01"}])
    issued_with = known_templates()[("jixiao.zhengti", "2021.3")]  # the version the return id was issued for
    unit_data = WorkbookFactory(issued_with, key=key).build(Unit("甲单位", "100001", 2021, "区财政局"),
                                               unit_values(seed_inputs()), return_id=rid)
    proj = _factory(key).build(Unit("甲单位", "100001", 2021, "区财政局",
                                    {"project_name": "就业培训", "project_code": "XM01"}), full(), return_id="p-1")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "unit.xlsx").write_bytes(unit_data)
    (tmp_path / "in" / "proj.xlsx").write_bytes(proj)
    res = jx("collect", tmp_path / "in", "--db", db, "--json", "--workers", 1)
    out = json.loads(res.stdout)
    assert res.returncode == 0 and out["counts"]["held"] == 0, out
    fates = {Path(f["file"]).name: f["outcome"] for f in out["file_fates"]}
    assert fates == {"unit.xlsx": "updated", "proj.xlsx": "new"}  # the unit's newer 附件3-2 replaces the old one
    with Store(db, readonly=True) as s:
        assert len(s.current(2021)) == 1 and len(s.current(2021, form=FORM)) == 1
    hist = jx("history", "100001", "--db", db)
    assert "附件3-1（就业培训，XM01）" in hist.stdout and "选择记录" in hist.stdout
    res = jx("verify", old_return, "--db", db, "--json")  # a workbook signed before the change still verifies
    assert res.returncode == 0 and not _codes(res)[0] & IDENTITY, res.stdout[:2000]
    res = jx("collect", old_return.parent, "--db", db, "--json")
    assert json.loads(res.stdout)["file_fates"][0]["outcome"] == "duplicate"


def test_generate_projects_registers_in_the_default_store(tmp_path):
    def jx_here(*args):  # run in tmp_path: the default store is ./jixiao.sqlite
        return subprocess.run([sys.executable, "-m", "cli.main", *map(str, args)], cwd=tmp_path, capture_output=True,
                              text=True, timeout=180, env={**os.environ, "PYTHONPATH": str(ROOT)})

    (tmp_path / "projects.csv").write_text(PROJECTS, encoding="utf-8")
    res = jx_here("generate", "--form", "xiangmu", "--roster", tmp_path / "projects.csv", "--year", 2021, "--out-dir",
                  tmp_path / "out")
    assert res.returncode == 0, res.stderr
    with Store(tmp_path / "jixiao.sqlite", readonly=True) as s:
        got = {(r[0], r[1]) for r in s.db.execute("SELECT budget_code, project_key FROM issued")}
    assert got == {("100001", "XM01"), ("100001", "信息系统运维"), ("100002", "XM09")}
    again = jx_here("generate", "--form", "xiangmu", "--roster", tmp_path / "projects.csv", "--year", 2021,
                    "--out-dir", tmp_path / "out")
    assert again.returncode == 2 and "Traceback" not in again.stderr
    with Store(tmp_path / "jixiao.sqlite", readonly=True) as s:  # nothing written, nothing registered twice
        assert s.db.execute("SELECT COUNT(*) FROM issued").fetchone()[0] == 3
