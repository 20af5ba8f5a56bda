"""build_tables at its edges, with hand-computed expectations: a district with no returns for the year, a
department whose every return has errors, an indicator nobody scored, odd values in a report (a boolean score,
no grade, an error count without its findings), and a roster whose every unit reported."""

from __future__ import annotations

import copy
import math

from workbook.consolidate import build_tables
from workbook.template import default_template

from .district_rows import district_roster, district_rows

GRADES = ["优", "良", "中", "差"]
NO_BINS = [("<60", 0), ("60–70", 0), ("70–80", 0), ("80–90", 0), ("90–95", 0), ("95–100", 0)]


def _rows(*codes: str) -> list[dict]:
    return [copy.deepcopy(r) for r in district_rows() if r["budget_code"] in codes]


def _nothing_scored(frame) -> None:
    """Every statistic of 指标分析 is None (not NaN) when no return counts."""
    assert len(frame) == len(default_template().indicators)
    for col in ("平均得分", "最低", "最高", "满分占比", "不适用占比"):
        assert all(v is None for v in frame[col]), col
    assert list(frame["分值"].iloc[:2]) == [5.0, 5.0]


def test_a_district_with_no_returns_for_the_year():
    t = build_tables([], 2021, district_roster()[:2], region="岳阳楼区")
    assert (t.included, t.excluded, len(t.findings)) == (0, 0, 0)
    assert len(t.frames["汇总"]) == 0 and list(t.frames["汇总"].columns[:4]) == ["预算编码", "单位名称", "主管部门", "计入排名"]
    assert len(t.frames["分部门汇总"]) == 0 and len(t.frames["财务汇总（万元）"]) == 0
    _nothing_scored(t.frames["指标分析"])
    missing = t.frames["未报送"]
    assert missing.to_dict("records") == [
        {"预算编码": "300001", "单位名称": "岳阳楼区第一中学", "主管部门": "岳阳楼区教育局"},
        {"预算编码": "300002", "单位名称": "岳阳楼区第二中学", "主管部门": "岳阳楼区教育局"}]
    assert t.grade_counts == dict.fromkeys(GRADES, 0) and t.score_bins == NO_BINS


def test_a_department_whose_every_return_has_errors():
    bad = _rows("300008")[0]
    second = copy.deepcopy(bad)
    second["budget_code"], second["unit_name"] = "300012", "岳阳楼区另一个有错误的单位"
    t = build_tables([bad, second], 2021)
    assert (t.included, t.excluded) == (0, 2)
    s = t.frames["汇总"]
    assert list(s["计入排名"]) == ["不计入", "不计入"] and all(math.isnan(r) for r in s["排名"])
    depts = t.frames["分部门汇总"].to_dict("records")
    assert [d["主管部门"] for d in depts] == ["岳阳楼区财政局", "全区合计（2021年度）"]
    for d in depts:
        assert (d["计入单位数"], d["不计入单位数"]) == (0, 2)
        assert d["平均分"] is None and d["最低分"] is None and d["最高分"] is None
        assert [d[g] for g in GRADES] == [0, 0, 0, 0]
    _nothing_scored(t.frames["指标分析"])
    assert len(t.frames["财务汇总（万元）"]) == 0
    assert t.grade_counts == dict.fromkeys(GRADES, 0) and t.score_bins == NO_BINS


def test_one_department_all_errors_beside_a_good_one():
    t = build_tables(_rows("300001", "300008"), 2021)
    depts = {d["主管部门"]: d for d in t.frames["分部门汇总"].to_dict("records")}
    fin = depts["岳阳楼区财政局"]  # only 300008, excluded
    assert (fin["计入单位数"], fin["不计入单位数"]) == (0, 1)
    assert all(math.isnan(fin[k]) for k in ("平均分", "最低分", "最高分"))  # None beside numbers: a blank cell
    edu = depts["岳阳楼区教育局"]
    assert (edu["计入单位数"], edu["平均分"], edu["最低分"], edu["最高分"]) == (1, 100.0, 100.0, 100.0)


def test_an_indicator_nobody_scored():
    rows = _rows("300001", "300002")
    for r in rows:  # neither report lists staff_control (a report of an older template, say)
        r["report"]["indicators"] = [i for i in r["report"]["indicators"] if i["id"] != "staff_control"]
    t = build_tables(rows, 2021)
    s = t.frames["汇总"]
    assert all(math.isnan(v) for v in s["财政供养人员控制率"])
    assert list(s["“三公经费”变动率"]) == [5.0, 5.0]
    ind = t.frames["指标分析"].set_index("三级指标")
    row = ind.loc["财政供养人员控制率"]
    assert math.isnan(row["平均得分"]) and row["不适用占比"] == 0.0  # NaN scores; "not applicable" counts as no
    assert ind.loc["“三公经费”变动率", "平均得分"] == 5.0


def test_odd_values_in_a_report():
    rows = _rows("300001", "300002")
    a, b = rows
    a["report"]["cached_total"] = True  # a boolean in the total cell is not a number
    a["report"]["indicators"][1]["score"] = False
    b["report"]["grade"] = None  # no grade: blank, not a placeholder
    b["report"]["errors"] = 2  # the report's own error count wins over its (empty of errors) findings
    t = build_tables(rows, 2021)
    s = t.frames["汇总"].set_index("预算编码")
    assert math.isnan(s.loc["300001", "单位自报总分"]) and math.isnan(s.loc["300001", "“三公经费”变动率"])
    assert s.loc["300002", "等次"] == "" and s.loc["300002", "错误"] == 2.0
    assert s.loc["300002", "计入排名"] == "不计入" and (t.included, t.excluded) == (1, 1)


def test_a_roster_whose_every_unit_reported():
    rows = district_rows()
    roster = [u for u in district_roster() if u.budget_code in {r["budget_code"] for r in rows}]
    missing = build_tables(rows, 2021, roster).frames["未报送"]
    assert len(missing) == 0 and list(missing.columns) == ["预算编码", "单位名称", "主管部门"]


def test_money_left_blank_by_every_unit_of_a_department_sums_to_zero():
    fin = build_tables(_rows("300003"), 2021).frames["财务汇总（万元）"].to_dict("records")
    assert [r["主管部门"] for r in fin] == ["（未填主管部门）", "全区合计（2021年度）"]
    assert all(r["项目支出"] == 0.0 and r["支出合计"] == 10.0 and r["单位数"] == 1 for r in fin)  # blank 项目支出: 0, not blank
