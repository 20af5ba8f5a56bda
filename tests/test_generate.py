"""The generated workbook's structure: sheets, names, protection, validation, cached values, 附件3-2 layout."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from workbook.checks import build_checks
from workbook.form.layout import AUDIT, SCORE, SHEET_ORDER, build_plan
from workbook.template import default_template

from .conftest import ROOT, require_shared, seed_inputs
from .helpers import SEED_UNIT, expected_named, factory, mismatches, named_values, unit_values

T = default_template()


@pytest.fixture(scope="module")
def seed_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("gen") / "seed.xlsx"
    factory().write(p, SEED_UNIT, unit_values(seed_inputs()))
    return p


@pytest.fixture(scope="module")
def wb(seed_file):
    return openpyxl.load_workbook(seed_file)


def test_sheets_in_report_order(wb):
    assert wb.sheetnames == SHEET_ORDER
    assert wb["_jixiao"].sheet_state == "veryHidden"


def test_every_sheet_protected_and_structure_locked(wb, seed_file):
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
        assert ws.protection.password, ws.title
    xml = zipfile.ZipFile(seed_file).read("xl/workbook.xml").decode()
    assert re.search(r'<workbookProtection[^>]*lockStructure="1"', xml)


def test_exactly_the_input_cells_are_unlocked(wb):
    plan = build_plan(T)
    expected = {(s, c.row + 1, c.col + 1) for s, c in plan.input_cells()
                if not (c.key in T.inputs and T.inputs[c.key].identity) and s != "_jixiao"}
    unlocked = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.has_style and cell.protection.locked is False:
                    unlocked.add((ws.title, cell.row, cell.column))
    assert unlocked == expected
    assert len(expected) > 100


def test_identity_cells_prefilled_and_locked(wb):
    names = {n: list(d.destinations)[0] for n, d in wb.defined_names.items()}
    for key, value in SEED_UNIT.identity().items():
        sheet, ref = names[key]
        cell = wb[sheet][ref.replace("$", "")]
        assert cell.value == value
        assert cell.protection.locked is not False


def test_every_input_has_a_name_and_validation(wb):
    names = set(wb.defined_names.keys())
    for key in T.inputs:
        assert key in names, key
    for ind in T.indicators:
        assert f"score_{ind.id}" in names and f"note_{ind.id}" in names
    assert {"total_score", "grade", *T.computed} <= names
    plan = build_plan(T)
    for sheet, cell in plan.input_cells():
        if sheet == "_jixiao":
            continue
        ws = wb[sheet]
        coord = openpyxl.utils.get_column_letter(cell.col + 1) + str(cell.row + 1)
        dvs = [dv for dv in ws.data_validations.dataValidation if coord in dv.sqref]
        assert dvs, f"{sheet}!{coord} ({cell.key}) has no validation"
        assert dvs[0].prompt and dvs[0].error, f"{sheet}!{coord} lacks a Chinese message"


def test_input_cells_are_single_unmerged(wb):
    plan = build_plan(T)
    for sheet, cell in plan.input_cells():
        coord = openpyxl.utils.get_column_letter(cell.col + 1) + str(cell.row + 1)
        for rng in wb[sheet].merged_cells.ranges:
            assert coord not in rng, f"{sheet}!{coord} is inside merge {rng}"


def test_yes_no_dropdown_sourced_from_range(wb):
    ws = wb["评分数据"]
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists and all(dv.formula1 == "list_yesno" for dv in lists)


def test_cached_values_present_and_correct(seed_file):
    cached = named_values(seed_file)
    expected = expected_named(seed_inputs())
    assert not mismatches(cached, expected)
    assert cached["total_score"] == 100 and cached["grade"] == "优"


def test_cached_values_for_deductions(tmp_path):
    inputs = {**seed_inputs(), "staff_quota": 39, "late_fund_count": 3, "satisfaction_rate": 80}
    p = tmp_path / "d.xlsx"
    factory().write(p, SEED_UNIT, unit_values(inputs))
    assert not mismatches(named_values(p), expected_named(inputs))


def test_every_score_is_a_formula(wb):
    names = {n: list(d.destinations)[0] for n, d in wb.defined_names.items()}
    for ind in T.indicators:
        sheet, ref = names[f"score_{ind.id}"]
        assert sheet == SCORE
        value = wb[sheet][ref.replace("$", "")].value
        assert isinstance(value, str) and value.startswith("="), ind.id
    for name in ("total_score", "grade"):
        sheet, ref = names[name]
        assert str(wb[sheet][ref.replace("$", "")].value).startswith("=")


SEED_ROWS = [  # 三级指标 and 分值 of 附件3-2 in the seed, top to bottom
    ("财政供养人员控制率", 5), ("“三公经费”变动率", 5), ("重点支出安排率", 5), ("预算调整率", 3), ("支付进度", 3),
    ("资金结余", 3), ("“三公经费”控制率", 6), ("管理制度健全性", 3), ("资金使用合规性", 3),
    ("预决算信息公开性和完善性", 3), ("政府采购执行率", 3), ("公务卡刷卡率", 3), ("管理制度健全性", 3),
    ("资产管理安全性", 4), ("固定资产利用率", 3), ("推进全面小康建设指标任务完成情况", 5),
    ("建设湖南新增极目标任务完成情况", 7), ("《政府工作报告》目标任务完成情况", 5), ("省市区民生实事完成情况", 2),
    ("省市区重点工程和重大项目建设完成情况", 2), ("其他工作实绩指标完成情况", 4), ("经济效益社会效益生态效益", 15),
    ("社会公众或服务对象满意度", 5),
]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def test_score_sheet_layout_matches_seed(wb):
    ws = wb[SCORE]
    header = [ws.cell(3, c).value for c in range(1, 8)]
    assert header == ["一级指标", "二级指标", "三级指标", "评分标准", "分值", "自评得分", "扣分原因和其他说明"]
    rows = [(_squash(ws.cell(r, 3).value), ws.cell(r, 5).value) for r in range(4, 4 + len(SEED_ROWS))]
    assert rows == [(name, pts) for name, pts in SEED_ROWS]
    assert _squash(ws.cell(4 + len(SEED_ROWS), 1).value) == "总分"
    assert ws.cell(4 + len(SEED_ROWS), 5).value == 100
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A4:A6", "A7:A18", "A19:A24", "A25:A26"} <= merged  # 投入 过程 产出 效果
    assert {"B4:B6", "B7:B10", "B11:B15", "B16:B18", "B19:B24", "B25:B26"} <= merged
    assert "D19:D24" in merged  # the shared 职责履行 criteria
    assert _squash(ws["A4"].value) == "投入（15分）" and _squash(ws["B11"].value) == "预算管理（15分）"


def test_criteria_texts_are_the_seeds():
    path = require_shared(ROOT.parent / "shared" / "seed" / "000_7518ab3a3420526e.txt", "种子报告原文")
    seed = _squash(path.read_text(encoding="utf-8"))
    for ind in T.indicators:
        if ind.criteria:
            assert _squash(ind.criteria) in seed, ind.id


def test_score_sheet_prints_a4_landscape_with_repeated_header(seed_file):
    wb = openpyxl.load_workbook(seed_file)
    ws = wb[SCORE]
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.print_title_rows == "$3:$3"
    # a fixed 75 % scale (honoured by Excel, WPS and LibreOffice alike) with columns that fit the page at that scale
    assert int(ws.page_setup.scale) == 75
    assert not (ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage)
    for w in ("A", "D", "G"):
        assert ws.column_dimensions[w].width > 5
    # long criteria rows are tall enough for their wrapped text
    assert ws.row_dimensions[12].height >= 80  # 资金使用合规性: six lines


def test_audit_sheet_has_a_row_per_check(wb):
    ws = wb[AUDIT]
    labels = [ws.cell(r, 2).value for r in range(6, 6 + len(build_checks(T)))]
    assert labels == [c.label for c in build_checks(T)]
    assert ws.conditional_formatting  # status colouring


def test_metadata_sheet_and_properties(seed_file):
    z = zipfile.ZipFile(seed_file)
    custom = z.read("docProps/custom.xml").decode()
    assert "jixiao_return_id" in custom and T.content_hash in custom
    values = named_values(seed_file)
    assert values["jx_template_id"] == T.id and values["jx_template_version"] == T.version
    assert re.fullmatch(r"[0-9a-f-]{36}", values["jx_return_id"])


def test_each_workbook_gets_a_fresh_return_id():
    a, b = factory().build(SEED_UNIT), factory().build(SEED_UNIT)
    ids = []
    for data in (a, b):
        custom = zipfile.ZipFile(io.BytesIO(data)).read("docProps/custom.xml").decode()
        ids.append(re.search(r'name="jixiao_return_id"><vt:lpwstr>([^<]+)', custom).group(1))
    assert ids[0] != ids[1]


def test_no_macros_no_external_links_no_x14(seed_file):
    z = zipfile.ZipFile(seed_file)
    names = z.namelist()
    assert not any("vbaProject" in n or "externalLink" in n for n in names)
    for n in names:
        if n.startswith("xl/worksheets/"):
            assert b"x14:" not in z.read(n), n


def test_text_from_roster_is_escaped(tmp_path):
    from workbook.generate import Unit

    u = Unit('=HYPERLINK("http://x","点我") & <b>', "X1", 2021, "部门")
    p = tmp_path / "evil.xlsx"
    factory().write(p, u)
    wb = openpyxl.load_workbook(p)
    names = {n: list(d.destinations)[0] for n, d in wb.defined_names.items()}
    sheet, ref = names["unit_name"]
    cell = wb[sheet][ref.replace("$", "")]
    assert cell.value == u.unit_name and cell.data_type == "s"


def test_each_named_cell_is_planned_once():
    plan = build_plan(T)
    named = [c.name for s in plan.sheets for c in s.cells if c.name]
    dupes = {n for n in named if named.count(n) > 1}
    assert not dupes
    assert set(named) == set(plan.names)
