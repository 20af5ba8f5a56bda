"""Rosters and `jixiao generate` batches."""

from __future__ import annotations

import openpyxl
import pytest
from typer.testing import CliRunner

from cli.main import app
from workbook.form.roster import RosterError, read_roster, safe_filename
from workbook.generate import Unit

from .helpers import named_values

runner = CliRunner()


def write(tmp_path, text, name="roster.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_text(text, encoding=encoding)
    return p


def test_read_csv_roster_with_prefill(tmp_path):
    p = write(tmp_path, "预算编码,单位名称,主管部门,sangong_prior_budget,上年三公经费决算数\n"
                        "200009,社保中心,人社局,1.5,1.2\n200010,就业中心,人社局,,\n")
    units = read_roster(p, 2021)
    assert [u.budget_code for u in units] == ["200009", "200010"]
    assert units[0].prefill == {"sangong_prior_budget": 1.5, "sangong_prior_actual": 1.2}
    assert units[1].prefill == {} and units[1].parent_dept == "人社局"


def test_read_gbk_csv_and_xlsx(tmp_path):
    p = write(tmp_path, "预算编码,单位名称,主管部门\n1,甲单位,乙部门\n", encoding="gbk")
    assert read_roster(p, 2021)[0].unit_name == "甲单位"
    wb = openpyxl.Workbook()
    wb.active.append(["预算编码", "单位名称", "主管部门"])
    wb.active.append([300001, "丙单位", "丁部门"])
    x = tmp_path / "r.xlsx"
    wb.save(x)
    u = read_roster(x, 2022)[0]
    assert (u.budget_code, u.unit_name, u.year) == ("300001", "丙单位", 2022)


@pytest.mark.parametrize(("text", "needle"), [
    ("预算编码,单位名称\n1,a\n", "缺少列：主管部门"),
    ("预算编码,单位名称,主管部门\n1,a,x\n1,b,x\n", "第 3 行：预算编码 1 与第 2 行重复"),
    ("预算编码,单位名称,主管部门\n1,,x\n", "第 2 行：单位名称为空"),
    ("预算编码,单位名称,主管部门\n,a,x\n", "第 2 行：预算编码为空"),
    ("预算编码,单位名称,主管部门,unknown_col\n1,a,x,3\n", "“unknown_col”不是已知的填报项"),
    ("", "花名册是空的"),
])
def test_bad_rosters_name_the_row(tmp_path, text, needle):
    with pytest.raises(RosterError) as exc:
        read_roster(write(tmp_path, text), 2021)
    assert any(needle in p for p in exc.value.problems), exc.value.problems


def test_safe_filenames():
    assert safe_filename(Unit('a/b:c*"d"', "12", 2021)) == "12-a_b_c_d_.xlsx"
    assert safe_filename(Unit("社保中心", "200009", 2021)) == "200009-社保中心.xlsx"


def test_cli_batch_generates_one_workbook_per_row(tmp_path):
    p = write(tmp_path, "预算编码,单位名称,主管部门,sangong_prior_budget\n200009,社保中心,人社局,1.5\n200010,就/业,人社局,\n")
    out = tmp_path / "out"
    res = runner.invoke(app, ["generate", "--roster", str(p), "--year", "2021", "--out-dir", str(out),
                              "--db", str(tmp_path / "j.sqlite")])
    assert res.exit_code == 0, res.output
    assert "2 个单位" in res.output
    files = sorted(f.name for f in out.iterdir())
    assert files == ["200009-社保中心.xlsx", "200010-就_业.xlsx"]
    values = named_values(out / "200009-社保中心.xlsx")
    assert values["unit_name"] == "社保中心" and values["year"] == 2021 and values["sangong_prior_budget"] == 1.5


def test_cli_bad_roster_exit_2_no_traceback(tmp_path):
    p = write(tmp_path, "预算编码,单位名称,主管部门\n1,a,x\n1,b,x\n")
    res = runner.invoke(app, ["generate", "--roster", str(p), "--year", "2021", "--out-dir", str(tmp_path / "o"),
                              "--db", str(tmp_path / "j.sqlite")])
    assert res.exit_code == 2 and "重复" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["generate", "--roster", str(tmp_path / "none.csv"), "--year", "2021",
                              "--out-dir", str(tmp_path / "o"), "--db", str(tmp_path / "j.sqlite")])
    assert res.exit_code == 2 and "不存在" in res.output


def test_cli_single_workbook(tmp_path):
    out = tmp_path / "one.xlsx"
    res = runner.invoke(app, ["generate", "-o", str(out), "--unit-name", "测试单位", "--budget-code", "9",
                              "--year", "2021", "--parent-dept", "测试部门"])
    assert res.exit_code == 0, res.output
    values = named_values(out)
    assert values["unit_name"] == "测试单位" and values["parent_dept"] == "测试部门"
    res = runner.invoke(app, ["generate", "--year", "2021"])
    assert res.exit_code == 2


def test_roster_as_bureaus_have_it_title_row_serial_and_remarks(tmp_path):
    p = write(tmp_path, "2021年度绩效自评单位名单\n\n序号,预算编码,单位名称,主管部门,人员编制,备注\n"
                        "1,200009,社保中心,人社局,50,\n2,200010,就业中心,人社局,,新设\n")
    notices: list[str] = []
    units = read_roster(p, 2021, notices=notices)
    assert [(u.budget_code, u.unit_name, u.prefill) for u in units] == [
        ("200009", "社保中心", {"staff_quota": 50}), ("200010", "就业中心", {})]
    assert len(notices) == 1 and "“序号”“备注”" in notices[0]


def test_tab_separated_roster_with_thousands_separators(tmp_path):
    p = write(tmp_path, "预算编码\t单位名称\t主管部门\t上年三公经费预算数\n200009\t社保中心\t人社局\t1,234.5\n")
    assert read_roster(p, 2021)[0].prefill == {"sangong_prior_budget": 1234.5}


def test_missing_columns_show_the_header_found(tmp_path):
    with pytest.raises(RosterError) as exc:
        read_roster(write(tmp_path, "单位名单\n序号,编码,单位,主管部门\n1,2,3,4\n"), 2021)
    assert exc.value.problems == ["表头缺少列：预算编码、单位名称（找到的表头：序号、编码、单位、主管部门；"
                                  "必需的列为 预算编码、单位名称、主管部门）"]


@pytest.mark.parametrize(("value", "needle"), [("abc", "应为数字"), ("-5", "不应小于 0"), ("15.5", "应为整数")])
def test_prefill_values_are_checked_at_generation(tmp_path, value, needle):
    p = write(tmp_path, f"预算编码,单位名称,主管部门,人员编制\n1,甲,局,40\n2,乙,局,{value}\n")
    with pytest.raises(RosterError) as exc:
        read_roster(p, 2021)
    assert len(exc.value.problems) == 1
    assert exc.value.problems[0].startswith("第 3 行：“人员编制”") and needle in exc.value.problems[0]


def test_cli_roster_problems_name_the_file_and_row(tmp_path):
    p = write(tmp_path, "预算编码,单位名称,主管部门,实有人数\n1,甲,局,abc\n")
    res = runner.invoke(app, ["generate", "--roster", str(p), "--year", "2021", "--out-dir", str(tmp_path / "o")])
    assert res.exit_code == 2 and str(p) in res.output and "第 2 行：“实有人数”为 'abc'" in res.output
    assert not (tmp_path / "o").exists()
