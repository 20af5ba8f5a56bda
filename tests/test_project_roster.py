"""Project rosters and `jixiao generate --form xiangmu` through the real entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workbook.form.project_roster import project_filename, read_project_roster
from workbook.form.roster import RosterError
from workbook.form.rowform import xiangmu_template
from workbook.read import read_return
from workbook.verify import verify

ROOT = Path(__file__).resolve().parent.parent
T = xiangmu_template()
GOOD = ("预算编码,单位名称,主管部门,项目名称,项目编码,年初预算数,上年结转资金全年预算数\n"
        "200009,社保中心,区人社局,就业培训,XM01,\"1,200.5\",3\n"
        "200009,社保中心,区人社局,信息系统运维,,30,\n"
        "200010,医保中心,区医保局,信息系统运维,,,\n")


def test_projects_with_identity_and_prefill(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(GOOD, encoding="utf-8")
    units = read_project_roster(p, 2021, T)
    assert [(u.budget_code, u.prefill["project_name"]) for u in units] == [
        ("200009", "就业培训"), ("200009", "信息系统运维"), ("200010", "信息系统运维")]
    assert units[0].prefill == {"project_name": "就业培训", "project_code": "XM01", "funds_current_initial": 1200.5,
                                "funds_carryover_budget": 3}
    assert project_filename(units[0]) == "200009-社保中心-就业培训.xlsx"


def test_roster_problems_name_the_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("预算编码,单位名称,主管部门,项目名称,年初预算数,颜色\n200009,社保中心,区人社局,,-3,红\n"
                 "200009,社保中心,区人社局,甲,1,\n200009,社保中心,区人社局,甲,1,\n", encoding="utf-8")
    with pytest.raises(RosterError) as e:
        read_project_roster(p, 2021, T)
    text = "；".join(e.value.problems)
    assert "“颜色”不是已知的列" in text and "第 2 行：项目名称为空" in text and "不小于 0" in text
    assert "第 4 行：项目“甲”与第 3 行重复" in text
    p.write_text("预算编码,单位名称,主管部门\n1,a,b\n", encoding="utf-8")
    with pytest.raises(RosterError, match="项目名称"):
        read_project_roster(p, 2021, T)


def test_generate_one_workbook_per_project_and_they_verify(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text(GOOD, encoding="utf-8")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "cli.main", "generate", "--form", "xiangmu", "--roster", str(roster),
                        "--year", "2021", "--out-dir", str(out), "--db", str(tmp_path / "j.sqlite")], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    files = sorted(out.glob("*.xlsx"))
    assert len(files) == 3
    v = verify(read_return(out / "200009-社保中心-就业培训.xlsx"))
    assert v.ret.unit["project_code"] == "XM01" and v.ret.inputs["funds_current_initial"] == 1200.5
    integrity = {"formula_tampered", "score_mismatch", "template_modified", "identity_inconsistent",
                 "not_recalculated"}
    assert not [f for f in v.findings if f.code in integrity]
    again = subprocess.run([sys.executable, "-m", "cli.main", "generate", "--form", "xiangmu", "--roster",
                            str(roster), "--year", "2021", "--out-dir", str(out), "--db", str(tmp_path / "j.sqlite")],
                           cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 2 and "Traceback" not in again.stderr  # never overwrites without --force
