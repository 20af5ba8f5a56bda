"""consolidate(): a real store → the workbook and CSVs, the roster's missing units, the region, refusing existing
files unless forced; the finding spool; print setup at its edges (A4 portrait up to 697 px, strips below 55 %)."""

from __future__ import annotations

import openpyxl
import pytest
import xlsxwriter

from workbook.collect import collect
from workbook.consolidate import SHEETS, FindingSpool, _print_setup, build_tables, consolidate, write_csvs
from workbook.generate import Unit
from workbook.outputs import OutputError
from workbook.store import Store

from .conftest import seed_inputs
from .helpers import SEED_UNIT, factory, unit_values


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("cons")
    (d / "in").mkdir()
    factory().write(d / "in" / "a.xlsx", SEED_UNIT, unit_values(seed_inputs()))
    with Store(d / "j.sqlite") as s:
        collect([d / "in"], s, workers=1)
        yield s


def test_consolidate_with_roster_region_and_csvs(store, tmp_path):
    missing = Unit("君山区缺报的中心", "300009", 2021, "君山区某局")
    out, csv_dir = tmp_path / "d.xlsx", tmp_path / "csv"
    tables = consolidate(store, 2021, out, roster=[SEED_UNIT, missing], csv_dir=csv_dir, region="君山区")
    assert tables.region == "君山区" and tables.included == 1
    wb = openpyxl.load_workbook(out)
    assert wb["汇总"]["A1"].value.startswith("2021年度君山区部门整体支出绩效自评汇总 · 汇总")
    assert [c.value for c in wb["未报送"][3]] == ["300009", "君山区缺报的中心", "君山区某局"]
    summary = wb["汇总"]
    header = [c.value for c in summary[2]]
    total = header.index("总分") + 1
    assert summary.cell(4, 1).value == "全区平均"  # one ranked return: still averaged, over row 3 alone
    assert summary.cell(4, total).value == f"=ROUND(AVERAGE({summary.cell(3, total).coordinate}:"\
                                           f"{summary.cell(3, total).coordinate}),2)"
    assert summary.max_row == 4  # no section of excluded returns when there are none
    assert sorted(p.name for p in csv_dir.iterdir()) == sorted(f"{n}.csv" for n in SHEETS)


def test_existing_files_are_refused_unless_forced(store, tmp_path):
    out, csv_dir = tmp_path / "d.xlsx", tmp_path / "csv"
    out.write_bytes(b"keep")
    with pytest.raises(OutputError):
        consolidate(store, 2021, out)
    assert out.read_bytes() == b"keep"
    out.unlink()
    csv_dir.mkdir()
    (csv_dir / "汇总.csv").write_text("keep", encoding="utf-8")
    with pytest.raises(OutputError):
        consolidate(store, 2021, out, csv_dir=csv_dir)
    assert not out.exists() and (csv_dir / "汇总.csv").read_text(encoding="utf-8") == "keep"  # nothing written
    consolidate(store, 2021, out, csv_dir=csv_dir, force=True)
    assert out.read_bytes()[:2] == b"PK" and (csv_dir / "汇总.csv").read_text(encoding="utf-8-sig").startswith("预算编码")
    with pytest.raises(OutputError):
        consolidate(store, 2021, out)  # force is off by default


def test_write_csvs_alone_replaces_its_files(tmp_path):
    tables = build_tables([], 2021)
    write_csvs(tables, tmp_path)
    (tmp_path / "未报送.csv").write_text("old", encoding="utf-8")
    write_csvs(tables, tmp_path)  # no Outputs given: its own, forced
    assert (tmp_path / "未报送.csv").read_text(encoding="utf-8-sig") == "说明\n未提供花名册（--roster），无法列出未报送单位\n"


def test_finding_spool_appends_after_reading():
    spool = FindingSpool()
    spool.add(["a", 1])
    spool.add(["b", 2])
    assert list(spool) == [["a", 1], ["b", 2]]
    spool.add(["c", 3])
    assert list(spool) == [["a", 1], ["b", 2], ["c", 3]] and len(spool) == 3
    spool.close()


def _printed(tmp_path, widths, repeat_cols=None):
    path = tmp_path / "p.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("表")
    ws.write_string(0, 0, "x")
    _print_setup(ws, widths, repeat_cols=repeat_cols)
    wb.close()
    return openpyxl.load_workbook(path)["表"]


def scale(ws) -> int:
    return int(ws.page_setup.scale or 100)  # 100 % is the default, not written


def test_print_setup_turns_landscape_only_above_a_portrait_page(tmp_path):
    # ten 9-character columns (63 + 5 px each) and one of 12/7 characters (12 + 5 px): exactly 697 px
    portrait = _printed(tmp_path, [9] * 10 + [12 / 7])
    assert portrait.page_setup.orientation == "portrait" and portrait.page_setup.paperSize == 9
    assert scale(portrait) == 95  # 697 px × 0.95 / 697 px
    wider = _printed(tmp_path, [9] * 10 + [13 / 7])  # 698 px
    assert wider.page_setup.orientation == "landscape"
    assert scale(wider) == 100  # fits a landscape page


def test_print_setup_prints_in_strips_below_55_percent(tmp_path):
    # 25 columns of 68 px and one of 50 px: 1,750 px, 974.7 / 1750 → 55 %: still one strip
    at = _printed(tmp_path, [9] * 25 + [45 / 7], repeat_cols=2)
    assert scale(at) == 55 and not at.print_title_cols
    wider = _printed(tmp_path, [9] * 26 + [45 / 7], repeat_cols=2)  # 1,818 px: 53 % → strips at 55 %
    assert scale(wider) == 55 and wider.print_title_cols == "$A:$C"
    narrow = _printed(tmp_path, [9] * 3, repeat_cols=2)
    assert scale(narrow) == 100 and not narrow.print_title_cols
    tiny = _printed(tmp_path, [9] * 200)  # no columns to repeat: scaled down, but never below 10 %
    assert scale(tiny) == 10



def test_csvs_are_committed_with_the_workbook_or_not_at_all(store, tmp_path, monkeypatch):
    import workbook.consolidate as cons
    from workbook.outputs import Outputs

    tables = build_tables([], 2021)
    with pytest.raises(RuntimeError), Outputs() as out:
        write_csvs(tables, tmp_path / "a", out)
        raise RuntimeError("interrupted before the commit")
    assert not list((tmp_path / "a").iterdir())  # nothing renamed into place

    def disk_full(tables, tmp):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cons, "_write_workbook_file", disk_full)
    with pytest.raises(OutputError, match="磁盘空间不足"):
        consolidate(store, 2021, tmp_path / "d.xlsx", csv_dir=tmp_path / "b")
    assert not (tmp_path / "d.xlsx").exists() and not list((tmp_path / "b").iterdir())
