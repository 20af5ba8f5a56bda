"""The bureau's 附件3-1 commands through the real entry point: `status` with the cross-form checks and
`consolidate --form xiangmu` (the 项目支出 district workbook), on a store filled by `collect`."""

from __future__ import annotations

import json

import openpyxl

from workbook.form.unit import Unit
from workbook.generate import WorkbookFactory
from workbook.read import read_return

from .conftest import seed_inputs
from .helpers import unit_values
from .test_projstore import Bureau
from .test_trust import jx


def _unit(bureau: Bureau, code: str, exp_project: float) -> bytes:
    ret = read_return(bureau.units[code])
    u = ret.unit
    unit = Unit(u["unit_name"], code, bureau.year, u["parent_dept"])
    values = unit_values({**seed_inputs(), "exp_project": exp_project})
    return WorkbookFactory(key=bureau.key).build(unit, values, return_id=ret.return_id)


def _collected(tmp_path) -> Bureau:
    bureau = Bureau(tmp_path)
    bureau.put("100001-甲单位.xlsx", _unit(bureau, "100001", 150))
    bureau.put("100002-乙单位.xlsx", _unit(bureau, "100002", 40))
    bureau.put("100001-就业培训.xlsx", bureau.project("就业培训"))  # 全年执行数 100
    bureau.put("100001-信息系统运维.xlsx", bureau.project("信息系统运维", funds_current_budget=80,
                                                         funds_current_executed=70.5))
    res, out = bureau.collect()
    assert res.returncode == 0 and out["counts"]["new"] == 4, res.stdout[-2000:]
    return bureau


def test_status_shows_the_cross_form_checks(tmp_path):
    bureau = _collected(tmp_path)
    res = jx("status", "--year", 2021, "--db", bureau.db)
    assert res.returncode == 0, res.stderr
    text = res.stdout
    # 甲单位: 100 + 70.5 = 170.50 against 项目支出 150 → a warning naming both figures
    line = next(x for x in text.splitlines() if "甲单位（100001）" in x and "警告" in x)
    assert "170.50" in line and "150.00" in line
    # 乙单位: 项目支出 40 and no 附件3-1 return
    line = next(x for x in text.splitlines() if "乙单位（100002）" in x and "警告" in x)
    assert "40.00" in line
    assert "跨表核对（附件3-1 与附件3-2）：警告 2" in text
    res = jx("status", "--year", 2021, "--db", bureau.db, "--json")
    units = {u["budget_code"]: u for u in json.loads(res.stdout)}
    assert [f["code"] for f in units["100001"]["cross_form"]] == ["projects_exceed_unit"]
    assert units["100001"]["cross_form"][0]["projects_amount"] == 170.5
    assert units["100001"]["cross_form"][0]["unit_amount"] == 150
    assert [f["code"] for f in units["100002"]["cross_form"]] == ["projects_missing"]


def test_status_without_project_returns_has_no_cross_form_section(tmp_path):
    bureau = Bureau(tmp_path)
    bureau.put("100002-乙单位.xlsx", _unit(bureau, "100002", 40))
    res, _ = bureau.collect()
    assert res.returncode == 0
    res = jx("status", "--year", 2021, "--db", bureau.db)
    assert res.returncode == 0 and "跨表核对" not in res.stdout
    res = jx("status", "--year", 2021, "--db", bureau.db, "--json")
    assert "cross_form" not in json.loads(res.stdout)[0]


def test_consolidate_projects_writes_the_district_workbook(tmp_path):
    bureau = _collected(tmp_path)
    out = tmp_path / "项目汇总.xlsx"
    res = jx("consolidate", "--form", "xiangmu", "--year", 2021, "-o", out, "--db", bureau.db,
             "--roster", tmp_path / "projects.csv", "--csv", tmp_path / "csv")
    assert res.returncode == 0, res.stderr
    assert "2 个项目" in res.stdout and "跨表核对：2 个单位有警告" in res.stdout
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames[:2] == ["项目明细", "单位汇总"] and "跨表核对" in wb.sheetnames
    rows = [r for r in wb["项目明细"].iter_rows(values_only=True) if r]
    head = next(r for r in rows if "项目名称" in r)
    name_at, code_at = head.index("项目名称"), head.index("预算编码")
    assert sorted(r[name_at] for r in rows if r[code_at] == "100001") == ["信息系统运维", "就业培训"]
    missing = [r for r in wb["未报送"].iter_rows(values_only=True) if r and "道路养护" in [str(x) for x in r]]
    assert missing, "the roster's third project has no return"
    assert (tmp_path / "csv" / "项目明细.csv").exists()
    # never over an existing file without --force; the JSON names the cross-form findings
    res = jx("consolidate", "--form", "xiangmu", "--year", 2021, "-o", out, "--db", bureau.db)
    assert res.returncode == 2 and "--force" in res.stderr + res.stdout
    res = jx("consolidate", "--form", "xiangmu", "--year", 2021, "-o", out, "--db", bureau.db, "--force", "--json")
    data = json.loads(res.stdout)
    assert res.returncode == 0 and data["projects"] == 2 and data["form"] == "jixiao.xiangmu"
    assert sorted(f["code"] for f in data["cross_form"]) == ["projects_exceed_unit", "projects_missing"]


def test_consolidate_with_an_unknown_form_says_so(tmp_path):
    res = jx("consolidate", "--form", "nosuch", "--year", 2021, "-o", tmp_path / "x.xlsx", "--db", tmp_path / "j.sqlite")
    assert res.returncode == 2 and "没有名为" in res.stderr and "xiangmu" in res.stderr
    assert not (tmp_path / "x.xlsx").exists()
