"""Print layout: every sheet fits its A4 page by construction, and prints every label and filled text whole.

The PDF checks render with headless LibreOffice (Calibri's metric twin Carlito installed, as
LibreOffice ships it) and read the text back with pdftotext.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbook.form.layout import META, SCORE, SCORING, build_plan
from workbook.form.styles import STYLES
from workbook.form.textfit import printable_pixels, sheet_pixels
from workbook.formulas import INCOMPLETE
from workbook.generate import WorkbookFactory
from workbook.libreoffice import convert
from workbook.template import default_template

from .conftest import seed_inputs
from .helpers import SEED_UNIT, unit_values
from .pdftext import missing, overflowing, pdf_text, require_print_tools, squash, words_outside_page

LONG_PROBLEMS = ("一是预算编制不够精细，部分项目支出预算与实际执行存在差异；二是绩效目标设置不够细化量化，部分指标难以考核；"
                 "三是资产管理信息化水平有待提高，固定资产卡片信息与实物核对不及时。") * 3


LONG_OVERVIEW = "".join(f"{n}. 岳阳市岳阳楼区社会保险服务中心2021年度整体支出绩效情况：预算执行、资产管理、绩效目标完成良好。"
                        for n in range(1, 16))  # ~700 characters: taller than the planned row


def plan():
    return build_plan(default_template())


def test_every_sheet_fits_the_printable_width_by_construction():
    for sheet in plan().sheets:
        if sheet.name == META:
            continue
        width = sheet_pixels(sheet.widths) * (sheet.scale or 100) / 100
        assert width <= printable_pixels(sheet.landscape), (sheet.name, width, printable_pixels(sheet.landscape))


def test_points_format_shows_5_and_half():
    assert STYLES["points"].get("num_format", "General") == "General"


def test_each_input_shown_once_on_scoring_sheet():
    sheet = plan().sheet(SCORING)
    labels = [c.value for c in sheet.cells if c.kind == "label" and c.col == 1]
    assert labels.count("上年三公经费预算数") == 1


def test_guide_speaks_to_the_unit_and_names_refused_formats():
    t = default_template()
    guide = " ".join(c.value for c in plan().sheet("填报说明").cells if isinstance(c.value, str))
    assert t.id not in guide and "模板" not in guide
    for ext in (".ods", ".xls", ".et"):
        assert ext in guide
    assert "岳阳楼区财政局" in guide


def test_region_and_bureau_are_configurable():
    p = build_plan(default_template(), region="君山区", bureau="岳阳市君山区财政局")
    cover = " ".join(m.text for m in p.sheet("封面").merges)
    guide = " ".join(c.value for c in p.sheet("填报说明").cells if isinstance(c.value, str))
    assert "君山区部门（单位）整体支出" in cover and "岳阳市君山区财政局（制）" in cover
    assert "岳阳市君山区财政局" in guide and "岳阳楼区" not in cover + guide


def test_score_table_and_subtotals_share_a_page():
    sheet = plan().sheet(SCORE)
    subtotal_row = next(m.r1 for m in sheet.merges if m.text.startswith("分项小计"))
    total_row = next(m.r1 for m in sheet.merges if m.text.startswith("总"))
    assert sheet.breaks and sheet.breaks[-1] < total_row  # the last page holds table rows, total and subtotals
    assert not [b for b in sheet.breaks if total_row <= b <= subtotal_row + 12]


# ---------------------------------------------------------------------------
# rendered by LibreOffice
# ---------------------------------------------------------------------------

def _texts(p, filled: dict) -> list[str]:
    """Every label and merged title of the visible sheets, and every filled text."""
    out = []
    for sheet in p.sheets:
        if sheet.name == META:
            continue
        out += [c.value for c in sheet.cells if c.kind == "label" and isinstance(c.value, str)]
        out += [m.text for m in sheet.merges]
    out += [v for k, v in filled.items() if isinstance(v, str) and k in default_template().inputs
            and k not in ("year",)]
    return [t for t in out if t.strip()]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    require_print_tools()
    work = tmp_path_factory.mktemp("print")
    f = WorkbookFactory()
    filled = {**seed_inputs(), "problems": LONG_PROBLEMS, "overview": LONG_OVERVIEW}
    blank_x, filled_x = work / "blank.xlsx", work / "filled.xlsx"
    blank_x.write_bytes(f.build(SEED_UNIT))
    filled_x.write_bytes(f.build(SEED_UNIT, unit_values(filled)))
    blank_pdf, filled_pdf = convert([blank_x, filled_x], work / "pdf", "pdf")
    return f.plan, filled, blank_pdf, filled_pdf


def test_every_label_and_filled_text_prints_whole(rendered):
    p, filled, blank_pdf, filled_pdf = rendered
    for pdf, values in ((blank_pdf, {}), (filled_pdf, filled)):
        body = pdf_text(pdf)
        lost = missing(_texts(p, values), body)
        assert not lost, f"{pdf.name}: {[t[:40] for t in lost[:8]]}"
        assert not words_outside_page(pdf), words_outside_page(pdf)[:5]
    body = pdf_text(filled_pdf)
    assert "存在的主要问题" in body and "2021年度" in body
    assert LONG_OVERVIEW.replace(" ", "") in squash(body)
    # not drawn past its row (LibreOffice clips it there; the text layer alone would not show that)
    assert not overflowing(filled_pdf, LONG_OVERVIEW, "存在的主要问题")
    assert not overflowing(filled_pdf, LONG_PROBLEMS, "改进措施和有关建议")


def test_blank_workbook_prints_incomplete_not_a_grade(rendered):
    _, _, blank_pdf, _ = rendered
    body = pdf_text(blank_pdf)
    assert INCOMPLETE in body
    assert "6.00" not in body


def test_one_page_per_sheet_where_it_fits(rendered):
    """Sheets that fit one page print on one page (cover, guide, 五、综述)."""
    import subprocess

    _, _, _, filled_pdf = rendered
    info = subprocess.run(["pdfinfo", str(filled_pdf)], capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages")))
    assert pages <= 20
    firsts = [pdf_text_page(filled_pdf, n).split()[0] for n in range(1, pages + 1)]
    for name in ("填报说明", "封面", "五、综述"):
        assert firsts.count(name) == 1, firsts


def pdf_text_page(pdf: Path, n: int) -> str:
    import subprocess

    return subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-raw", str(pdf), "-"], capture_output=True,
                          text=True).stdout


def test_cli_sets_region_and_bureau(tmp_path):
    import subprocess
    import sys

    import openpyxl

    from .conftest import ROOT

    out = tmp_path / "x.xlsx"
    res = subprocess.run([sys.executable, "-m", "cli.main", "generate", "-o", str(out), "--unit-name", "某单位",
                          "--budget-code", "100001", "--year", "2022", "--region", "君山区",
                          "--bureau", "岳阳市君山区财政局"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    wb = openpyxl.load_workbook(out)
    cover = [str(c.value) for row in wb["封面"].iter_rows() for c in row if c.value]
    assert any("君山区部门（单位）整体支出" in v for v in cover)
    assert "岳阳市君山区财政局（制）" in cover
    assert any("岳阳市君山区财政局" in str(c.value) for row in wb["填报说明"].iter_rows() for c in row if c.value)
    cached = openpyxl.load_workbook(out, data_only=True)
    assert "2022年度" in [c.value for row in cached["封面"].iter_rows() for c in row]
