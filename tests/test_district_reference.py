"""The 附件3-2 district workbook, byte for byte: statistics checked against hand-computed figures, and the
whole workbook (every worksheet, the styles, the charts) compared part by part with a reviewed reference file.

The reference files live in tests/reference/.  After an intended change of the district workbook, rewrite them
with `JIXIAO_UPDATE_REFERENCE=1 python3 -m pytest -q tests/test_district_reference.py`, open the new
tests/reference/district.xlsx in Excel / LibreOffice, review `git diff --stat tests/reference`, and commit them.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

import workbook.consolidate as cons
from workbook.consolidate import build_tables, r2, safe_text, write_csvs, write_workbook

from .district_rows import district_roster, district_rows

REFERENCE = Path(__file__).parent / "reference"
UPDATE = os.environ.get("JIXIAO_UPDATE_REFERENCE") == "1"
TIMESTAMPS = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


def tables():
    return build_tables(district_rows(), 2021, district_roster(), region="岳阳楼区")


def by_code(frame, code):
    return frame[frame["预算编码"] == code].iloc[0]


# ---------------------------------------------------------------------------
# the statistics, by hand (see tests/district_rows.py for the data)
# ---------------------------------------------------------------------------

def test_counts_ranks_and_order():
    t = tables()
    assert (t.included, t.excluded) == (7, 1)
    s = t.frames["汇总"]
    assert list(s["预算编码"]) == [f"30000{i}" for i in range(1, 9)]  # ties ordered by code, the excluded last
    ranks = list(s["排名"].iloc[:7])
    assert ranks == [1, 2, 2, 4, 5, 6, 7]  # 95 and 95 share rank 2 ("min" ranking), then 4
    assert s["排名"].iloc[7] != s["排名"].iloc[7]  # NaN: the excluded return has no rank
    assert list(s["计入排名"]) == ["计入"] * 7 + ["不计入"]
    bad = by_code(s, "300008")
    assert bad["错误"] == 5 and bad["警告"] == 0  # counted from its findings (the report has no counts)
    assert bad["不计入原因"] == "有 5 个错误（数据无效、得分与复算不符、公式被修改等）"
    assert by_code(s, "300002")["警告"] == 1 and by_code(s, "300001")["不计入原因"] == ""
    assert by_code(s, "300003")["单位自报总分"] != by_code(s, "300003")["单位自报总分"]  # not reported: blank
    assert by_code(s, "300005")["投入小计"] == 14.25 and by_code(s, "300006")["投入小计"] == 7.0
    assert by_code(s, "300005")["经济效益·社会效益·生态效益"] == 0.0 and by_code(s, "300002")["财政供养人员控制率"] == 5.0


def test_grades_and_score_bins_include_their_lower_edge():
    t = tables()
    assert t.grade_counts == {"优": 4, "良": 0, "中": 2, "差": 1}  # the excluded 优 is not counted
    # totals 100, 95, 95, 90, 72.25, 60, 58: each edge counts in the bin it starts
    assert t.score_bins == [("<60", 1), ("60–70", 1), ("70–80", 1), ("80–90", 0), ("90–95", 1), ("95–100", 3)]


def test_department_table():
    d = tables().frames["分部门汇总"]
    assert list(d["主管部门"]) == ["岳阳楼区教育局", "岳阳楼区财政局", "（未填主管部门）", "全区合计（2021年度）"]
    rows = [list(r) for r in d.itertuples(index=False, name=None)]
    assert rows[0] == ["岳阳楼区教育局", 3, 3, 0, 0, 0, 95.0, 90.0, 100.0, 0]
    assert rows[1] == ["岳阳楼区财政局", 3, 0, 0, 2, 1, 63.42, 58.0, 72.25, 1]  # 190.25 / 3 = 63.4166…
    assert rows[2] == ["（未填主管部门）", 1, 1, 0, 0, 0, 95.0, 95.0, 95.0, 0]
    assert rows[3] == ["全区合计（2021年度）", 7, 4, 0, 2, 1, 81.46, 58.0, 100.0, 1]  # 570.25 / 7 = 81.464…


def test_indicator_table():
    ind = tables().frames["指标分析"].set_index("三级指标")
    assert len(ind) == 23
    #        indicator                      max   average  min    max   full share  n/a share
    expect = {"财政供养人员控制率": (5.0, 4.89, 4.25, 5.0, 6 / 7, 0.0),  # 34.25 / 7
              "“三公经费”变动率": (5.0, 3.57, 0.0, 5.0, 5 / 7, 0.1429),  # 1 of 7 not applicable: 14.29 %
              "重点支出安排率": (5.0, 4.14, 2.0, 5.0, 5 / 7, 0.0),  # 29 / 7
              "预算调整率": (3.0, 2.71, 1.0, 3.0, 6 / 7, 0.0),  # 19 / 7
              "建设湖南新增极目标任务完成情况": (7.0, 4.0, 0.0, 7.0, 4 / 7, 0.0),
              "经济效益·社会效益·生态效益": (15.0, 6.43, 0.0, 15.0, 2 / 7, 0.0),  # 45 / 7
              "社会公众或服务对象满意度": (5.0, 2.14, 0.0, 5.0, 3 / 7, 0.0),  # 15 / 7
              "支付进度": (3.0, 3.0, 3.0, 3.0, 1.0, 0.0)}
    for name, (full, avg, lo, hi, share, na) in expect.items():
        row = ind.loc[name]
        assert (row["分值"], row["平均得分"], row["最低"], row["最高"]) == (full, avg, lo, hi), name
        assert row["满分占比"] == pytest.approx(share, abs=1e-12) and row["不适用占比"] == na, name
    assert tuple(ind.loc["财政供养人员控制率", ["一级指标", "二级指标"]]) == ("投入", "预算配置")


def test_finance_table_sums_accepted_returns_only():
    fin = [list(r) for r in tables().frames["财务汇总（万元）"].itertuples(index=False, name=None)]
    assert fin == [
        ["岳阳楼区教育局", 3, 350.5, 240.25, 110.0, 350.25, 1.63, 1400.0],  # 三公 1.625 rounds half away from 0
        ["岳阳楼区财政局", 3, 170.75, 90.5, 80.25, 170.75, 3.5, 550.0],
        ["（未填主管部门）", 1, 10.0, 10.0, 0.0, 10.0, 0.0, 0.0],  # 项目支出 missing: counted as 0
        ["全区合计（2021年度）", 7, 531.25, 340.75, 190.25, 531.0, 5.13, 1950.0]]


def test_missing_units_and_findings():
    t = tables()
    assert [list(r) for r in t.frames["未报送"].itertuples(index=False, name=None)] == [
        ["300009", "岳阳楼区未报送的学校", "岳阳楼区教育局"], ["300010", "没有主管部门的未报送单位", ""],
        ["300011", "@名称以 @ 开头的未报送单位", "岳阳楼区财政局"]]
    f = [list(r) for r in t.findings.frame().itertuples(index=False, name=None)]
    assert len(f) == 10
    assert f[0][3:] == ["警告", "未说明扣分原因", "财政供养人员控制率", "财政供养人员控制率扣分，未说明原因", "是", "编制调整",
                        "note_missing"]
    assert f[1][3:] == ["警告", "指标值偏离", "经济效益·社会效益·生态效益", "=效益指标偏离目标值 30%", "", "单位说明：受疫情影响",
                        "target_deviation"]
    assert [r[3] for r in f[2:4]] == ["提示", "notice"]  # severity order error < warning < info < unknown
    assert f[2][4:6] == ["有出租资产", "固定资产合计"] and f[3][4:6] == ["mystery_code", "Z99"]
    assert [r[3] for r in f[4:]] == ["错误"] * 5 + ["警告"]
    assert [r[4] for r in f[4:9]] == ["数据无效", "得分与复算不符", "公式被修改", "数据无效", "模板被修改"]


def test_no_roster_and_no_returns():
    t = build_tables([], 2021)
    assert (t.included, t.excluded) == (0, 0)
    assert t.frames["未报送"].to_dict("records") == [{"说明": "未提供花名册（--roster），无法列出未报送单位"}]
    assert t.grade_counts == {"优": 0, "良": 0, "中": 0, "差": 0}
    assert [c for _, c in t.score_bins] == [0] * 6
    assert len(t.frames["汇总"]) == 0 and len(t.frames["分部门汇总"]) == 0 and len(t.frames["财务汇总（万元）"]) == 0
    assert t.frames["指标分析"]["平均得分"].isna().all()
    assert t.title("汇总") == "2021年度岳阳楼区部门整体支出绩效自评汇总 · 汇总"  # the template's region by default


def test_r2_rounds_half_away_from_zero_on_the_decimal_value():
    assert r2(1.625) == 1.63 and r2(2.675) == 2.68 and r2(-1.625) == -1.63 and r2("0.125") == 0.13
    assert safe_text("=1+1") == "'=1+1" and safe_text("\tx") == "'\tx" and safe_text("a=1") == "a=1" and safe_text(5) == 5


def test_an_extra_table_gets_its_own_titled_sheet(tmp_path):
    import openpyxl
    import pandas as pd

    t = build_tables([], 2021)
    t.frames["附表"] = pd.DataFrame({"项目": ["甲"], "金额": [1.5]})
    ws = openpyxl.load_workbook(write_workbook(t, tmp_path / "extra.xlsx"))["附表"]
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:B1"]  # the title spans both columns
    assert ws["A1"].value == "2021年度岳阳楼区部门整体支出绩效自评汇总 · 附表"
    assert [ws["A3"].value, ws["B3"].value] == ["甲", 1.5]


def test_chart_axis_steps_for_large_counts(tmp_path):
    t = build_tables([], 2021, region="君山区")
    t.grade_counts = {"优": 17, "良": 9, "中": 1, "差": 0}
    t.score_bins = [("<60", 0), ("60–70", 64), ("70–80", 1), ("80–90", 0), ("90–95", 0), ("95–100", 0)]
    out = write_workbook(t, tmp_path / "axis.xlsx")
    with zipfile.ZipFile(out) as z:
        grades, bins = (z.read(f"xl/charts/chart{i}.xml").decode() for i in (1, 2))
    # 17 units: a step of ceil(17 / 8) = 3, the axis up to 18; 64 units: a step of 8, up to 64
    assert '<c:max val="18"/>' in grades and '<c:majorUnit val="3"/>' in grades
    assert '<c:max val="64"/>' in bins and '<c:majorUnit val="8"/>' in bins
    assert "君山区各评价等次单位数" in grades and "君山区总分分布" in bins


def test_streams_above_the_row_limit(tmp_path, monkeypatch):
    t = tables()
    rows = 8 + 10  # returns + findings
    monkeypatch.setattr(cons, "STREAM_ROWS", rows)
    with zipfile.ZipFile(write_workbook(t, tmp_path / "a.xlsx")) as z:
        assert "xl/sharedStrings.xml" in z.namelist()  # at the limit: shared strings
    monkeypatch.setattr(cons, "STREAM_ROWS", rows - 1)
    with zipfile.ZipFile(write_workbook(tables(), tmp_path / "b.xlsx")) as z:
        assert "xl/sharedStrings.xml" not in z.namelist()  # above it: streamed, strings inline


# ---------------------------------------------------------------------------
# the reference files
# ---------------------------------------------------------------------------

def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    if "docProps/core.xml" in parts:  # the creation time is the only part that changes from run to run
        parts["docProps/core.xml"] = TIMESTAMPS.sub(b"", parts["docProps/core.xml"])
    return parts


def _pretty(xml: bytes) -> list[str]:
    try:
        return etree.tostring(etree.fromstring(xml), pretty_print=True, encoding="unicode").splitlines()
    except etree.XMLSyntaxError:
        return xml.decode("utf-8", "replace").splitlines()


def _compare(built: dict[str, bytes], reference: dict[str, bytes], name: str) -> None:
    problems = []
    if sorted(built) != sorted(reference):
        problems.append(f"parts differ: only built {sorted(set(built) - set(reference))}, "
                        f"only reference {sorted(set(reference) - set(built))}")
    for part in sorted(set(built) & set(reference)):
        if built[part] != reference[part]:
            diff = difflib.unified_diff(_pretty(reference[part]), _pretty(built[part]), f"reference/{part}",
                                        f"built/{part}", lineterm="", n=2)
            problems.append("\n".join(list(diff)[:60]))
    assert not problems, (f"{name} differs from tests/reference/{name} (if intended: JIXIAO_UPDATE_REFERENCE=1, "
                          "then review and commit the new reference):\n" + "\n\n".join(problems))


def _check_reference(built: bytes, name: str) -> None:
    ref = REFERENCE / name
    if UPDATE:
        if ref.exists() and _parts(ref.read_bytes()) == _parts(built):
            return  # unchanged but for the timestamps: keep the file as committed
        ref.parent.mkdir(exist_ok=True)
        ref.write_bytes(built)
        pytest.skip(f"rewrote tests/reference/{name}: review it before committing")
    assert ref.exists(), f"tests/reference/{name} is missing: run with JIXIAO_UPDATE_REFERENCE=1 and review it"
    _compare(_parts(built), _parts(ref.read_bytes()), name)


def test_district_workbook_matches_the_reference(tmp_path):
    out = write_workbook(tables(), tmp_path / "district.xlsx")
    _check_reference(out.read_bytes(), "district.xlsx")


def test_empty_district_workbook_matches_the_reference(tmp_path):
    out = write_workbook(build_tables([], 2021, region="君山区"), tmp_path / "empty.xlsx")
    _check_reference(out.read_bytes(), "district-empty.xlsx")


def test_district_csvs_match_the_reference(tmp_path):
    paths = write_csvs(tables(), tmp_path / "csv")
    assert [p.name for p in paths] == ["汇总.csv", "分部门汇总.csv", "指标分析.csv", "财务汇总（万元）.csv", "未报送.csv",
                                       "审核结果.csv"]
    folder = REFERENCE / "district-csv"  # plain CSV files: a change shows in `git diff`
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for p in paths:
            (folder / p.name).write_bytes(p.read_bytes())
        pytest.skip("rewrote tests/reference/district-csv: review it before committing")
    built = {p.name: p.read_bytes() for p in paths}
    _compare(built, {p.name: p.read_bytes() for p in folder.glob("*.csv")}, "district-csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "csv" / "汇总.csv").read_text(encoding="utf-8-sig"))))
    assert rows[3][1] == "'=1+1 岳阳楼区公式开头的中心"  # a CSV reader never sees a formula


def test_exclusion_reason_lists_up_to_three_kinds():
    row = district_rows()[7]  # the excluded return
    three = [{"severity": "error", "code": c, "where": "", "message": "x"}
             for c in ("invalid_input", "score_mismatch", "brand_new_code")]
    rows = [{**row, "unit_name": None, "report": {**row["report"], "findings": three}}]
    s = build_tables(rows, 2021).frames["汇总"]
    assert s["不计入原因"].iloc[0] == "有 3 个错误（数据无效、得分与复算不符、brand_new_code）"  # no 等: only three kinds
    assert s["单位名称"].iloc[0] == "" and s["错误"].iloc[0] == 3


def test_score_bins_at_every_edge():
    rows = [{"budget_code": f"4{i:05d}", "unit_name": "单位", "parent_dept": "局", "return": {},
             "report": {"total": total, "grade": "", "errors": 0}}
            for i, total in enumerate((0, 59.99, 60, 69.99, 70, 79.99, 80, 89.99, 90, 94.99, 95, 100))]
    assert build_tables(rows, 2021).score_bins == [("<60", 2), ("60–70", 2), ("70–80", 2), ("80–90", 2),
                                                   ("90–95", 2), ("95–100", 2)]
