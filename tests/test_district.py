"""District workbook: returns with errors are shown but excluded from ranks, averages and sums; counts are integers;
every sheet is titled and set up for A4; every sheet prints whole (LibreOffice → PDF → pdftotext)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from workbook.collect import collect
from workbook.consolidate import CODE_ZH, EXCLUDED, INCLUDED, build_tables, consolidate
from workbook.generate import Unit
from workbook.store import Store
from workbook.template import FINDING_CODES

from .conftest import seed_inputs
from .helpers import SEED_UNIT, factory, unit_values
from .pdftext import missing, pdf_text, require_print_tools, words_outside_page

GOOD_B = Unit("岳阳楼区某某事务中心（测试）", "300001", 2021, "岳阳楼区某局")
BAD = Unit("岳阳楼区负数支出中心（测试）", "300002", 2021, "岳阳楼区某局")


@pytest.fixture
def store(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    factory().write(folder / "a.xlsx", SEED_UNIT, unit_values(seed_inputs()))
    factory().write(folder / "b.xlsx", GOOD_B, unit_values({**seed_inputs(), "staff_quota": 39,
                                                            "note_staff_control": "编制调整"}))
    # an error: a negative amount (invalid_input), which must not reach 财务汇总
    factory().write(folder / "c.xlsx", BAD, unit_values({**seed_inputs(), "exp_personnel": -5000}))
    with Store(tmp_path / "j.sqlite") as s:
        collect([folder], s, workers=1)
        yield s


def test_every_finding_code_has_a_chinese_name():
    assert set(CODE_ZH) == set(FINDING_CODES)


def test_return_with_errors_is_listed_but_excluded(store):
    rows = store.current(2021)
    bad = next(r for r in rows if r["budget_code"] == BAD.budget_code)
    assert bad["report"]["errors"] > 0
    good = [r for r in rows if r["budget_code"] != BAD.budget_code]
    tables = build_tables(store.iter_current(2021), 2021)
    summary = tables.frames["汇总"]
    assert list(summary["预算编码"])[-1] == BAD.budget_code  # listed, at the end
    row = summary[summary["预算编码"] == BAD.budget_code].iloc[0]
    assert row["计入排名"] == EXCLUDED and row["排名"] != row["排名"]  # NaN: no rank
    assert "错误" in row["不计入原因"] and "数据无效" in row["不计入原因"]
    ranked = summary[summary["计入排名"] == INCLUDED]
    assert sorted(ranked["排名"].astype(int)) == [1, 2]
    assert (tables.included, tables.excluded) == (2, 1)
    fin = tables.frames["财务汇总（万元）"].iloc[-1]
    assert fin["单位数"] == 2
    assert fin["支出合计"] == pytest.approx(sum(r["report"]["computed"]["exp_total"] for r in good), abs=0.01)
    assert fin["支出合计"] > 0  # the negative amount is not summed
    dept = tables.frames["分部门汇总"].iloc[-1]
    assert dept["计入单位数"] == 2 and dept["不计入单位数"] == 1
    assert dept["平均分"] == pytest.approx(sum(float(r["report"]["total"]) for r in good) / 2, abs=0.01)
    ind = tables.frames["指标分析"]
    staff = ind[ind["三级指标"] == "财政供养人员控制率"].iloc[0]
    assert staff["平均得分"] == pytest.approx(sum(
        next(i["score"] for i in r["report"]["indicators"] if i["id"] == "staff_control") for r in good) / 2, abs=0.01)
    assert sum(tables.grade_counts.values()) == 2
    findings = tables.findings.frame()
    assert len(findings) == sum(len(r["report"]["findings"]) for r in rows)
    assert set(findings["问题"]) <= set(CODE_ZH.values())
    assert "人员支出" in set(findings["位置"])  # the input's label, not its key


def test_workbook_marks_excluded_rows_and_counts_are_integers(store, tmp_path):
    out = tmp_path / "d.xlsx"
    consolidate(store, 2021, out, region="岳阳楼区")
    wb = openpyxl.load_workbook(out)
    for ws in wb.worksheets:
        assert str(ws["A1"].value).startswith("2021年度岳阳楼区"), ws.title  # titled with year and district
        assert int(ws.page_setup.paperSize) == 9, ws.title  # A4
        if ws.title != "图表":
            assert ws.print_title_rows == "$2:$2", ws.title
    ws = wb["汇总"]
    header = [c.value for c in ws[2]]
    avg = next(r for r in ws.iter_rows(min_row=3) if r[0].value == "全区平均")
    err, warn = header.index("错误"), header.index("警告")
    assert avg[err].number_format == "0" and avg[warn].number_format == "0"
    assert avg[err].value.startswith("=SUM(") and "合计" in avg[1].value
    assert avg[header.index("总分")].value.startswith("=ROUND(AVERAGE(")
    last_ranked = avg[0].row - 1
    assert f"{last_ranked})" in avg[header.index("总分")].value  # the average stops before the excluded rows
    excluded = [r for r in ws.iter_rows(min_row=avg[0].row + 1) if r[0].value == BAD.budget_code]
    assert excluded and excluded[0][header.index("计入排名")].value == EXCLUDED
    for r in ws.iter_rows(min_row=3, max_row=last_ranked):
        assert r[err].number_format == "0"
    cached = openpyxl.load_workbook(out, data_only=True)["汇总"]
    assert cached.cell(avg[0].row, err + 1).value == 0 and isinstance(cached.cell(avg[0].row, warn + 1).value, int)
    fin = wb["财务汇总（万元）"]
    assert "合计 2 份没有错误的报表" in " ".join(str(c.value) for c in fin[1] if c.value)


def test_chart_axes_count_in_whole_numbers(store, tmp_path):
    import zipfile

    out = tmp_path / "d.xlsx"
    consolidate(store, 2021, out)
    with zipfile.ZipFile(out) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2
    for xml in charts:
        assert '<c:majorUnit val="1"/>' in xml and 'formatCode="0"' in xml
    ws = openpyxl.load_workbook(out)["图表"]
    assert len(ws.row_breaks.brk) == 1  # one chart per page
    assert ws.page_setup.orientation == "landscape"


def test_district_workbook_prints_whole(store, tmp_path):
    require_print_tools()
    from workbook.libreoffice import convert

    out = tmp_path / "d.xlsx"
    tables = consolidate(store, 2021, out, region="岳阳楼区")
    pdf = convert([out], tmp_path / "pdf", "pdf")[0]
    body = pdf_text(pdf)
    wb = openpyxl.load_workbook(out)
    texts = [str(ws["A1"].value) for ws in wb.worksheets]
    texts += [str(c.value) for ws in wb.worksheets for c in ws[2] if isinstance(c.value, str)]
    texts += [u.unit_name for u in (SEED_UNIT, GOOD_B, BAD)] + [SEED_UNIT.parent_dept]
    texts += list(tables.findings.frame()["说明"]) + list(tables.frames["指标分析"]["三级指标"])
    lost = missing(texts, body)
    assert not lost, [t[:40] for t in lost[:8]]
    assert not words_outside_page(pdf)
    assert EXCLUDED in body and "全区平均" in body
    assert "###" not in body  # no number too wide for its column


def test_csv_keeps_finding_codes(store, tmp_path):
    import csv

    consolidate(store, 2021, tmp_path / "d.xlsx", csv_dir=tmp_path / "csv")
    with (Path(tmp_path) / "csv" / "审核结果.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {"invalid_input"} <= {r["代码"] for r in rows}


def test_cli_consolidate_names_region_and_excluded(store, tmp_path):
    import subprocess
    import sys

    from .conftest import ROOT

    db = store.path
    out = tmp_path / "cli.xlsx"
    res = subprocess.run([sys.executable, "-m", "cli.main", "consolidate", "--year", "2021", "--db", str(db), "-o",
                          str(out), "--region", "君山区"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "1 份报表有错误" in res.stdout
    assert str(openpyxl.load_workbook(out)["汇总"]["A1"].value).startswith("2021年度君山区")


def test_streamed_workbook_has_the_same_content(store, tmp_path, monkeypatch):
    """Large districts are written in constant-memory mode (rows in order, inline strings): same tables."""
    import workbook.consolidate as cons

    small, big = tmp_path / "small.xlsx", tmp_path / "big.xlsx"
    consolidate(store, 2021, small)
    monkeypatch.setattr(cons, "STREAM_ROWS", 0)
    consolidate(store, 2021, big)
    with open(big, "rb") as fh:
        import zipfile

        assert "xl/sharedStrings.xml" not in zipfile.ZipFile(fh).namelist()  # really streamed
    a, b = openpyxl.load_workbook(small), openpyxl.load_workbook(big)
    assert a.sheetnames == b.sheetnames
    for ws in a.worksheets:
        rows_a = [[c.value for c in r] for r in ws.iter_rows()]
        rows_b = [[c.value for c in r] for r in b[ws.title].iter_rows()]
        assert rows_a == rows_b, ws.title
