"""The 项目支出 district workbook: per project, per unit, per 主管部门, execution-rate bands, indicators below
target and 跨表核对 against hand-computed figures; a return with errors listed but left out; unit text that
looks like a formula stays text (workbook and CSV); Excel's limits; LibreOffice opens it; no overwrite."""

from __future__ import annotations

import csv
import re
import subprocess
import zipfile

import openpyxl
import pytest

import workbook.project_district as pd_mod
from workbook.consolidate import EXCLUDED, INCLUDED
from workbook.crossform import EXCEED, MISSING, OK, SKIPPED
from workbook.excel_limits import excel_problems
from workbook.form.unit import Unit
from workbook.outputs import OutputError
from workbook.project_district import (
    NO_RATE,
    RATE,
    SHEETS,
    build_project_tables,
    consolidate_projects,
)

from .conftest import require_soffice
from .projects_support import FakeStore, funds, indicators, project_row, project_unit, unit_row
from .test_rowform_workbook import row

EDU, HEALTH = "区教育局", "区卫健局"
EVIL_PROJECT = "=1+2"
EVIL_INDICATOR = '=HYPERLINK("http://x","点击")'
EVIL_REASON = "-原因 @别处"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("proj")
    p = project_unit
    projects = [
        # 85/100 → 85 %, 8.5 + 27 + 20 + 30 + 10 = 95.5 优
        project_row(tmp, p("300001", "甲单位", EDU, "项目A", "XM1"), {**funds(100, 85), **indicators(output_actual=180)}),
        # (40 + 15.5)/(60 + 20) = 69.375 → 69.38 %, 6.94 + 50 + 18 (部分达成 60 %) + 10 = 84.94 良
        project_row(tmp, p("300001", "甲单位", EDU, "项目B", "XM2"),
                    {**funds(60, 40, 20, 15.5), **indicators(benefit_word="部分达成")}),
        # 45/100 → 45 %, 4.5 + 50 + 30 + 9 (81/90 of 10) = 93.5 优
        project_row(tmp, p("300002", "乙单位", EDU, "项目C"), {**funds(100, 45), **indicators(satisfaction_actual=81)}),
        # an error (negative amount): listed, left out of every figure, its below-target row not listed
        project_row(tmp, p("300002", "乙单位", EDU, "坏项目"),
                    {**funds(300, 100), "funds_other_executed": -3, **indicators(output_actual=100)}),
        # 50/50 → 100 %, 10 + 15 (100/200 of 30) + 20 + 30 + 10 = 85 良; unit text that looks like a formula
        project_row(tmp, p("300003", "丙单位", HEALTH, EVIL_PROJECT),
                    {**funds(50, 50), **indicators(**row("output", 1, EVIL_INDICATOR, "≥", 200, 100, 30, EVIL_REASON))}),
        # no budget, nothing spent: not applicable, 10 points, no rate → 100 优
        project_row(tmp, p("300003", "丙单位", HEALTH, "项目D"), {**funds(0, 0), **indicators()}),
    ]
    units = [unit_row(tmp, Unit("甲单位", "300001", 2021, EDU), exp_project=150),
             unit_row(tmp, Unit("乙单位", "300002", 2021, EDU), exp_project=40),
             unit_row(tmp, Unit("丁单位", "300004", 2021, HEALTH), exp_project=25)]
    assert [r["errors"] for r in projects] == [0, 0, 0, 1, 0, 0]
    assert [r["total"] for r in projects if not r["errors"]] == [95.5, 84.94, 93.5, 85, 100]
    return FakeStore(units, projects)


@pytest.fixture(scope="module")
def tables(store):
    t = build_project_tables(store.iter_current(2021, form="jixiao.xiangmu"), 2021, store.iter_current(2021),
                             region="岳阳楼区")
    yield t
    t.close()


def by(frame, column: str) -> dict:
    return {r[column]: r for r in frame.to_dict("records")}


def test_per_project_rows_and_the_excluded_return(tables):
    d = tables.frame("项目明细")
    # in the store's order: budget code, then project key (code, else name)
    assert list(d["项目名称"]) == ["项目A", "项目B", "坏项目", "项目C", EVIL_PROJECT, "项目D"]
    rows = by(d, "项目名称")
    b = rows["项目B"]
    assert (b["全年预算数（万元）"], b["全年执行数（万元）"], b[RATE], b["项目资金得分"], b["效益指标得分"], b["总分"],
            b["等次"]) == (80, 55.5, 69.38, 6.94, 18, 84.94, "良")
    assert (b["项目编码"], b["计入统计"], b["错误"]) == ("XM2", INCLUDED, 0)
    bad = rows["坏项目"]
    assert bad["计入统计"] == EXCLUDED and bad["不计入原因"] == "有 1 个错误（数据无效）"
    assert rows["项目D"][RATE] != rows["项目D"][RATE]  # NaN: no rate without a budget
    assert (tables.included, tables.excluded) == (5, 1)


def test_unit_and_department_sums_rates_and_means(tables):
    u = by(tables.frame("单位汇总"), "预算编码")
    a = u["300001"]  # 180 budget, 140.5 spent → 78.06 %; (95.5 + 84.94) / 2 = 90.22
    assert (a["项目数"], a["计入项目数"], a["全年预算数（万元）"], a["全年执行数（万元）"], a[RATE], a["平均分"]) == (
        2, 2, 180, 140.5, 78.06, 90.22)
    assert (a["优"], a["良"], a["中"], a["差"], a["附件3-2项目支出（万元）"], a["跨表核对"]) == (1, 1, 0, 0, 150, OK)
    b = u["300002"]  # the return with an error is counted as a project, not in the sums
    assert (b["项目数"], b["计入项目数"], b["不计入项目数"], b["全年执行数（万元）"], b[RATE], b["平均分"]) == (
        2, 1, 1, 45, 45, 93.5)
    assert b["跨表核对"] == EXCEED
    c = u["300003"]
    assert (c["全年预算数（万元）"], c["全年执行数（万元）"], c[RATE], c["平均分"], c["跨表核对"]) == (50, 50, 100, 92.5,
                                                                                   SKIPPED)
    total = u["全区合计"]  # 330 budget, 235.5 spent → 71.36 %; 458.94 / 5 = 91.79
    assert (total["项目数"], total["计入项目数"], total["全年预算数（万元）"], total["全年执行数（万元）"], total[RATE],
            total["平均分"], total["优"], total["良"]) == (6, 5, 330, 235.5, 71.36, 91.79, 3, 2)
    dept = by(tables.frame("主管部门汇总"), "主管部门")
    e = dept[EDU]  # 280 budget, 185.5 spent → 66.25 %; (95.5 + 84.94 + 93.5) / 3 = 91.31
    assert (e["单位数"], e["项目数"], e["计入项目数"], e["全年预算数（万元）"], e["全年执行数（万元）"], e[RATE], e["平均分"],
            e["最低分"], e["最高分"], e["不计入项目数"]) == (2, 4, 3, 280, 185.5, 66.25, 91.31, 84.94, 95.5, 1)
    h = dept[HEALTH]
    assert (h["单位数"], h["项目数"], h[RATE], h["平均分"], h["最低分"], h["最高分"]) == (1, 2, 100, 92.5, 85, 100)
    assert dept["全区合计（2021年度）"][RATE] == 71.36


def test_execution_rate_bands(tables):
    bands = by(tables.frame("执行率分布"), "执行率区间")
    assert [(k, v["项目数"]) for k, v in bands.items()] == [
        ("低于50%", 1), ("50%–60%", 0), ("60%–70%", 1), ("70%–80%", 0), ("80%–90%", 1), ("90%及以上", 1), (NO_RATE, 1)]
    assert bands["60%–70%"]["占比"] == 0.25 and bands["60%–70%"]["全年执行数（万元）"] == 55.5
    assert tables.bands[0] == ("低于50%", 1) and tables.no_rate == 1


def test_indicators_below_target(tables):
    below = tables.frame("未达标指标")
    got = [(r["项目名称"], r["三级指标"], r["分值"], r["得分"], r["扣分"]) for r in below.to_dict("records")]
    assert got == [("项目A", "培训人次", 30, 27, 3), ("项目B", "就业率", 30, 18, 12), ("项目C", "满意度", 10, 9, 1),
                   (EVIL_PROJECT, EVIL_INDICATOR, 30, 15, 15)]  # 坏项目's 100/200 row is not listed
    evil = below.iloc[3]
    assert (evil["一级指标"], evil["指标性质"], evil["年度指标值"], evil["实际完成值"], evil["偏差原因分析及改进措施"]) == (
        "产出指标", "≥", 200, 100, EVIL_REASON)
    assert below.iloc[1]["实际完成值"] == "部分达成"


def test_cross_form_sheet_and_findings(tables):
    cross = tables.frame("跨表核对")
    assert list(cross["预算编码"]) == ["300002", "300004", "300003", "300001"]  # exceeding, missing, unchecked, fine
    assert list(cross["核对结果"]) == [EXCEED, MISSING, SKIPPED, OK]
    over = cross.iloc[0]
    assert (over["附件3-2项目支出（万元）"], over["全年执行数合计（万元）"], over["差额（万元）"]) == (40, 45, 5)
    assert "合计 45.00 万元" in over["说明"] and "40.00 万元" in over["说明"] and "另有 1 份" in over["说明"]
    assert "25.00 万元" in cross.iloc[1]["说明"]
    assert [f.code for f in tables.cross_findings] == ["projects_exceed_unit", "cross_check_skipped",
                                                      "projects_missing"]


def test_problem_list_names_place_and_project(tables):
    problems = tables.frame("问题清单")
    bad = problems[problems["代码"] == "invalid_input"].iloc[0]
    assert (bad["项目名称"], bad["严重程度"], bad["问题"], bad["位置"]) == ("坏项目", "错误", "数据无效", "其他资金全年执行数")


def test_without_unit_rows_no_cross_check_and_without_roster_no_missing_list(store):
    t = build_project_tables(store.iter_current(2021, form="jixiao.xiangmu"), 2021, unit_rows=None)
    assert t.checks is None and "未做跨表核对" in t.frame("跨表核对").iloc[0]["说明"]
    assert set(t.frame("单位汇总")["跨表核对"][:-1]) == {"未核对（未提供附件3-2数据）"}
    assert "项目花名册" in t.frame("未报送").iloc[0]["说明"]
    roster = [project_unit("300001", "甲单位", EDU, "项目A", "XM1"), project_unit("300009", "壬单位", EDU, " 新  项目 ")]
    t = build_project_tables(store.iter_current(2021, form="jixiao.xiangmu"), 2021, roster=roster)
    assert t.frame("未报送").to_dict("records") == [
        {"预算编码": "300009", "单位名称": "壬单位", "主管部门": EDU, "项目编码": "", "项目名称": " 新  项目 "}]


def test_workbook_titles_print_setup_text_cells_and_excel_limits(store, tmp_path):
    out = tmp_path / "项目汇总.xlsx"
    t = consolidate_projects(store, 2021, out, csv_dir=tmp_path / "csv", region="岳阳楼区")
    assert t.included == 5
    assert not excel_problems(out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == list(SHEETS)
    for ws in wb.worksheets:
        assert str(ws["A1"].value).startswith("2021年度岳阳楼区项目支出绩效自评汇总"), ws.title
        assert int(ws.page_setup.paperSize) == 9 and ws.print_title_rows == "$2:$2", ws.title
    detail = wb["项目明细"]
    header = [c.value for c in detail[2]]
    evil = next(r for r in detail.iter_rows(min_row=3) if r[header.index("项目名称")].value == EVIL_PROJECT)
    cell = evil[header.index("项目名称")]
    assert cell.data_type == "s" and cell.quotePrefix
    plain = detail.cell(3, header.index("项目名称") + 1)
    assert plain.value == "项目A" and not plain.quotePrefix
    below = wb["未达标指标"]
    bh = [c.value for c in below[2]]
    cells = [r for r in below.iter_rows(min_row=3) if r[bh.index("三级指标")].value == EVIL_INDICATOR][0]
    for col in ("项目名称", "三级指标", "偏差原因分析及改进措施"):
        c = cells[bh.index(col)]
        assert c.data_type == "s" and c.quotePrefix, col
    excluded = next(r for r in detail.iter_rows(min_row=3) if r[header.index("项目名称")].value == "坏项目")
    assert excluded[header.index("计入统计")].value == EXCLUDED
    assert excluded[0].fill.fgColor.rgb.endswith("FBE5E7")  # marked
    with zipfile.ZipFile(out) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 1
    with (tmp_path / "csv" / "未达标指标.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    evil_csv = next(r for r in rows if r["三级指标"].endswith(EVIL_INDICATOR))
    assert evil_csv["三级指标"] == "'" + EVIL_INDICATOR and evil_csv["项目名称"] == "'" + EVIL_PROJECT
    assert evil_csv["偏差原因分析及改进措施"] == "'" + EVIL_REASON
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == sorted(f"{s}.csv" for s in SHEETS)


def test_existing_outputs_are_refused_unless_forced(store, tmp_path):
    out = tmp_path / "x.xlsx"
    out.write_bytes(b"keep")
    with pytest.raises(OutputError, match="已存在"):
        consolidate_projects(store, 2021, out)
    assert out.read_bytes() == b"keep"
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "单位汇总.csv").write_text("keep", encoding="utf-8")
    with pytest.raises(OutputError, match="已存在"):
        consolidate_projects(store, 2021, tmp_path / "new.xlsx", csv_dir=csv_dir)
    assert not (tmp_path / "new.xlsx").exists() and (csv_dir / "单位汇总.csv").read_text(encoding="utf-8") == "keep"
    consolidate_projects(store, 2021, out, force=True)
    assert openpyxl.load_workbook(out).sheetnames == list(SHEETS)


def test_streamed_workbook_has_the_same_content(store, tmp_path, monkeypatch):
    small, big = tmp_path / "small.xlsx", tmp_path / "big.xlsx"
    consolidate_projects(store, 2021, small)
    monkeypatch.setattr(pd_mod, "STREAM_ROWS", 0)
    consolidate_projects(store, 2021, big)
    with zipfile.ZipFile(big) as z:
        assert "xl/sharedStrings.xml" not in z.namelist()  # really streamed
    a, b = openpyxl.load_workbook(small), openpyxl.load_workbook(big)
    for ws in a.worksheets:
        assert [[c.value for c in r] for r in ws.iter_rows()] == [[c.value for c in r] for r in b[ws.title].iter_rows()]


def test_an_empty_year_still_writes_every_sheet(store, tmp_path):
    out = tmp_path / "empty.xlsx"
    t = consolidate_projects(store, 2030, out)
    assert (t.included, t.excluded) == (0, 0) and not excel_problems(out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == list(SHEETS) and wb["未达标指标"]["A3"].value == "没有未达标的指标"


def test_libreoffice_opens_the_workbook(store, tmp_path):
    require_soffice()
    from workbook.libreoffice import convert

    out = tmp_path / "项目汇总.xlsx"
    tables = consolidate_projects(store, 2021, out, region="岳阳楼区")
    (saved,) = convert([out], tmp_path / "lo", "xlsx")  # opened and saved again by LibreOffice
    wb = openpyxl.load_workbook(saved)
    assert wb.sheetnames == list(SHEETS)
    detail = wb["项目明细"]
    assert str(detail["A1"].value).startswith("2021年度岳阳楼区项目支出绩效自评汇总")
    names = [r[4].value for r in detail.iter_rows(min_row=3)]
    assert names == [r["项目名称"] for r in tables.frame("项目明细").to_dict("records")]
    assert EVIL_PROJECT in names  # still the text, not a computed 3


def test_every_sheet_prints_whole(store, tmp_path):
    """LibreOffice → PDF: every title, header, unit text and message is on a page, nothing outside it."""
    from workbook.libreoffice import convert

    from .pdftext import missing, pdf_text, require_print_tools, words_outside_page

    require_print_tools()
    out = tmp_path / "项目汇总.xlsx"
    tables = consolidate_projects(store, 2021, out, region="岳阳楼区")
    pdf = convert([out], tmp_path / "pdf", "pdf")[0]
    body = pdf_text(pdf)
    wb = openpyxl.load_workbook(out)
    texts = [str(ws["A1"].value) for ws in wb.worksheets]
    texts += [str(c.value) for ws in wb.worksheets for c in ws[2] if isinstance(c.value, str)]
    texts += list(tables.frame("跨表核对")["说明"]) + list(tables.frame("问题清单")["说明"])
    texts += [EVIL_PROJECT, EVIL_INDICATOR, EVIL_REASON]
    lost = missing(texts, body)
    assert not lost, [t[:40] for t in lost[:8]]
    assert not words_outside_page(pdf)
    assert "###" not in body
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+8\b", pages), pages  # one page per sheet: no column split onto a page of its own


def test_tables_agree_with_each_other_over_random_returns(tmp_path):
    """Random 附件3-1 returns (many with errors): every table adds up to the same district figures."""
    import random
    from decimal import Decimal as D

    from .test_rowform_workbook import random_case

    rows = []
    for i in range(16):
        rng = random.Random(100 + i)
        budget = rng.choice([0, rng.randint(1, 400)])
        inputs = random_case(rng) if i % 3 == 0 else {  # random rows: their points seldom add up (errors)
            **funds(budget, round(budget * rng.randint(20, 120) / 100, 2)),
            **indicators(output_actual=rng.randint(50, 300), benefit_word=rng.choice(["达成", "基本达成", "未达成"]),
                         satisfaction_actual=rng.randint(60, 99))}
        code = f"40000{i % 5}"
        rows.append(project_row(tmp_path, project_unit(code, f"单位{i % 5}", f"部门{i % 2}", f"项目{i:02d}"), inputs))
    clean = [r for r in rows if not r["errors"]]
    assert 0 < len(clean) < len(rows)
    t = build_project_tables(FakeStore([], rows).iter_current(2021, form="jixiao.xiangmu"), 2021)
    assert (t.included, t.excluded) == (len(clean), len(rows) - len(clean))
    d = t.frame("项目明细")
    assert list(d["预算编码"]) == sorted(d["预算编码"]) and len(d) == len(rows)
    counted = d[d["计入统计"] == INCLUDED]
    units, depts = t.frame("单位汇总"), t.frame("主管部门汇总")
    for frame in (units, depts):
        body = frame.iloc[:-1]
        total = frame.iloc[-1]
        for col in ("项目数", "计入项目数", "不计入项目数", "优", "良", "中", "差"):
            assert body[col].sum() == total[col], col
        for col in ("全年预算数（万元）", "全年执行数（万元）"):
            assert total[col] == pytest.approx(body[col].sum(), abs=0.005) == pytest.approx(counted[col].sum(), abs=0.005)
    budget = D(str(units.iloc[-1]["全年预算数（万元）"]))
    if budget:
        rate = (D(100) * D(str(units.iloc[-1]["全年执行数（万元）"])) / budget).quantize(D("0.01"), "ROUND_HALF_UP")
        assert units.iloc[-1][RATE] == float(rate)
    assert units.iloc[-1]["平均分"] == pytest.approx(counted["总分"].mean(), abs=0.005)
    bands = t.frame("执行率分布")
    assert bands["项目数"].sum() == t.included
    rated = counted[RATE].dropna()
    assert bands.iloc[-1]["项目数"] == len(counted) - len(rated)
    assert bands.iloc[0]["项目数"] == int((rated < 50).sum()) and bands.iloc[5]["项目数"] == int((rated >= 90).sum())
    below = t.frame("未达标指标")
    assert set(below["项目名称"]) <= set(counted["项目名称"])
    expected = sum(1 for r in clean for i in r["report"]["indicators"]
                   if i["id"] != "funds" and i["status"] == "ok" and i["score"] < i["max"])
    assert len(below) == expected and (below["得分"] < below["分值"]).all()
    assert len(t.frame("问题清单")) == sum(len(r["report"]["findings"]) for r in rows)
    t.close()


def test_consolidate_from_a_real_store(tmp_path):
    """附件3-2 and 附件3-1 returns collected into the store, then consolidated: the same figures as by hand."""
    from workbook.collect import collect
    from workbook.store import Store

    from .conftest import seed_inputs
    from .helpers import factory as unit_factory
    from .helpers import unit_values
    from .test_rowform_workbook import factory as project_factory

    folder = tmp_path / "in"
    folder.mkdir()
    unit_factory().write(folder / "u1.xlsx", Unit("甲单位", "300001", 2021, EDU),
                         unit_values({**seed_inputs(), "exp_project": 100}))
    unit_factory().write(folder / "u4.xlsx", Unit("丁单位", "300004", 2021, EDU),
                         unit_values({**seed_inputs(), "exp_project": 25}))
    project_factory().write(folder / "p1.xlsx", project_unit("300001", "甲单位", EDU, "项目A", "XM1"),
                            {**funds(100, 85), **indicators()})
    project_factory().write(folder / "p2.xlsx", project_unit("300001", "甲单位", EDU, "项目B"),
                            {**funds(30, 20), **indicators(output_actual=150)})
    with Store(tmp_path / "j.sqlite") as store:
        summary = collect([folder], store, workers=1)
        assert summary.rejected_count == 0
        t = consolidate_projects(store, 2021, tmp_path / "项目汇总.xlsx", region="岳阳楼区")
        real = next(store.iter_current(2021, form="jixiao.xiangmu"))
    fake = project_row(tmp_path, project_unit("300001", "甲单位", EDU, "项目A", "XM1"), {**funds(100, 85), **indicators()})
    # the fake store's rows (tests/projects_support.py) have no field the real store lacks
    assert set(fake) <= set(real) and set(fake["report"]) <= set(real["report"])
    assert set(fake["return"]) <= set(real["return"])
    d = t.frame("项目明细")
    assert list(d["项目名称"]) == ["项目A", "项目B"]  # by project key: the code XM1, then the name 项目B
    # 项目B: 20/30 → 66.67 % → 6.67; 150/200 of 30 = 22.5; 6.67 + 22.5 + 20 + 30 + 10 = 89.17
    assert list(d["全年执行数（万元）"]) == [85, 20] and list(d["总分"]) == [98.5, 89.17]
    cross = t.frame("跨表核对")
    assert list(cross["核对结果"]) == [EXCEED, MISSING]
    assert "合计 105.00 万元" in cross.iloc[0]["说明"] and "项目支出 100.00 万元" in cross.iloc[0]["说明"]
    assert list(t.frame("未达标指标")["三级指标"]) == ["培训人次"]
