"""附件3-1 print layout: A4 landscape, the columns fit the printable width by construction, page breaks only
between the header-and-funds part, the indicator levels and the closing part; every label and filled text
prints (LibreOffice PDF read back with pdftotext), in a known number of pages.  Also the 填报说明 sheet and
the input and error messages of every input cell."""

from __future__ import annotations

import subprocess

import pytest

from workbook.form.layout import AUDIT, GUIDE, META
from workbook.form.textfit import printable_pixels, sheet_pixels
from workbook.libreoffice import convert

from .pdftext import missing, pdf_text, require_print_tools, squash, words_outside_page
from .test_rowform_workbook import CASES, UNIT, T, factory

LONG = "项目按计划完成培训任务，培训质量较好，学员满意度较高；部分培训因场地原因推迟，已调整进度。" * 2
FILLED = {**CASES["partial"], "goal_expected": "开展就业技能培训，提升劳动者就业能力，全年培训200人次以上。",
          "goal_actual": "全年培训180人次，就业率提升。", "conclusion": LONG, "problems": "部分培训未按期完成。",
          "measures": "加强进度管理。", "manager": "张三", "phone": "0730-1234567", "funds_reason": "部分培训推迟到下年度。"}


def plan():
    return factory().plan


def test_sheets_in_order_and_fit_the_printable_width():
    p = plan()
    assert [s.name for s in p.sheets] == [GUIDE, T.title, AUDIT, META]
    for s in p.sheets:
        if s.name != META:
            assert sheet_pixels(s.widths) <= printable_pixels(s.landscape), s.name


def test_breaks_fall_only_before_a_level_table_or_the_closing_part():
    s = plan().sheet(T.title)
    headers = {c.row for c in s.cells if c.kind == "label" and c.col == 0 and "分）" in str(c.value)}
    total = next(c.row for c in s.cells if c.value == "总分")
    assert s.breaks and set(s.breaks) <= headers | {total}


def test_guide_comes_from_the_template_and_every_input_has_messages():
    p = plan()
    guide = [c.value for c in p.sheet(GUIDE).cells if c.kind == "label"]
    assert [g for _, g in T.guide] == guide[1:]
    for ext in (".ods", ".xls", ".et"):
        assert any(ext in g for g in guide)
    for sheet, cell in p.input_cells():
        if sheet == META:
            continue
        v = cell.validation
        assert v and v.get("input_message") and v.get("error_message"), (sheet, cell.key)
    nature = next(c for _, c in p.input_cells() if c.key == "ind_output_1_nature")
    assert nature.validation["validate"] == "list" and nature.validation["source"] == list(T.params.natures)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    require_print_tools()
    work = tmp_path_factory.mktemp("rowprint")
    blank, filled = work / "blank.xlsx", work / "filled.xlsx"
    factory().write(blank, UNIT)
    factory().write(filled, UNIT, FILLED)
    return convert([blank, filled], work / "pdf", "pdf")


def _pages(pdf) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages")))


def _page(pdf, n: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-raw", str(pdf), "-"], capture_output=True,
                          text=True).stdout


def test_every_label_and_filled_text_prints(rendered):
    blank_pdf, filled_pdf = rendered
    p = plan()
    labels = [c.value for s in p.sheets if s.name != META for c in s.cells
              if c.kind == "label" and isinstance(c.value, str) and c.value.strip()]
    labels += [m.text for s in p.sheets if s.name != META for m in s.merges if m.text]
    for pdf, extra in ((blank_pdf, []), (filled_pdf, [v for v in FILLED.values() if isinstance(v, str) and
                                                       v.strip()])):
        body = pdf_text(pdf)
        lost = missing([*labels, *extra], body)
        assert not lost, (pdf.name, [t[:30] for t in lost[:8]])
        assert not words_outside_page(pdf), words_outside_page(pdf)[:5]
    # the page with the total: 未完成 on a blank form (no total or grade that looks like a result), a score filled
    assert "总分未完成" in squash(_page(blank_pdf, 4)) and "总分89.50" in squash(_page(filled_pdf, 4))
    body = squash(pdf_text(filled_pdf))
    assert LONG.replace(" ", "") in body and "就业技能培训项目" in body and "89.50" in body


def test_page_count_and_what_each_page_starts_with(rendered):
    """填报说明, three pages of the form (header and funds; 产出 and 效益; 满意度 and the total), 审核."""
    _, filled_pdf = rendered
    n = _pages(filled_pdf)
    assert n == 5, n
    pages = [_page(filled_pdf, k) for k in range(1, n + 1)]
    assert "填报说明" in pages[0] and "预算编码" in pages[1] and "项目资金" in pages[1]
    assert "产出指标（50分）" in pages[2] and "效益指标（30分）" in pages[2]
    assert "满意度指标（10分）" in pages[3] and "总分" in pages[3] and "评价结论" in pages[3]
    assert "审核规则" in pages[4] and "警告" in pages[4]
