"""Bureau: store, collect, status, consolidate, next-year prefill, demo."""

from __future__ import annotations

import csv
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from cli.main import app
from workbook.collect import collect
from workbook.consolidate import build_tables, consolidate, safe_text
from workbook.generate import Unit
from workbook.status import unit_status
from workbook.store import Store
from workbook.synthetic import synthetic_inputs, synthetic_unit, with_notes

from .conftest import require_soffice, seed_inputs
from .helpers import SEED_UNIT, factory, unit_values

runner = CliRunner()


def make_returns(folder: Path, n: int, seed: int = 1) -> list[Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        code, name, dept = synthetic_unit(i, rng)
        p = folder / f"{code}.xlsx"
        factory().write(p, Unit(name, code, 2021, dept), with_notes(synthetic_inputs(rng, rng.choice(["good", "fair"]))))
        paths.append(p)
    return paths


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "j.sqlite") as s:
        yield s


def test_collect_twice_is_idempotent(tmp_path, store):
    make_returns(tmp_path / "in", 5)
    first = collect([tmp_path / "in"], store, workers=1)
    assert (first.new, first.updated, first.duplicate, first.rejected_count) == (5, 0, 0, 0)
    second = collect([tmp_path / "in"], store, workers=1)
    assert (second.new, second.updated, second.duplicate, second.rejected_count) == (0, 0, 5, 0)
    assert store.counts()["files"] == 5 and store.counts()["sightings"] == 10


def test_supersede_keeps_history(tmp_path, store):
    first = tmp_path / "a.xlsx"
    factory().write(first, SEED_UNIT, unit_values({**seed_inputs(), "late_fund_count": 2}))
    second = tmp_path / "b.xlsx"
    factory().write(second, SEED_UNIT, unit_values(seed_inputs()))
    assert collect([first], store, workers=1).new == 1
    assert collect([second], store, workers=1).updated == 1
    current = store.current(2021)
    assert len(current) == 1 and current[0]["source_path"].endswith("b.xlsx") and current[0]["total"] == 100
    history = store.history("200009", 2021)
    assert [h["is_current"] for h in history] == [0, 1]
    assert history[0]["superseded_by"] == history[1]["id"] and history[0]["total"] == 99


def test_folder_of_good_duplicate_and_hostile_files(tmp_path, store):
    from . import hostile

    folder = tmp_path / "inbox"
    good = make_returns(folder, 4)
    (folder / "sub").mkdir()
    (folder / "sub" / "copy.xlsx").write_bytes(good[0].read_bytes())
    (folder / "sub" / "mail.xlsx").write_text("邮件正文", encoding="utf-8")
    (folder / "sub" / "old.xls").write_bytes(hostile.ole2())
    (folder / "sub" / "macro.xlsx").write_bytes(hostile.with_macro(good[1].read_bytes()))
    (folder / "empty.xlsx").write_bytes(b"")
    files = [p for p in folder.rglob("*") if p.is_file()]
    s = collect([folder, tmp_path / "no-such-folder"], store)
    assert s.files == len(files) + 1
    assert (s.new, s.duplicate, s.rejected_count) == (4, 1, 5)
    assert s.new + s.updated + s.duplicate + s.rejected_count == s.files
    reasons = dict(s.rejected)
    assert "宏" in reasons[str(folder / "sub" / "macro.xlsx")]
    assert "路径不存在" in reasons[str(tmp_path / "no-such-folder")]
    assert len(store.rejected()) == 4  # every rejected file is stored with its reason (the missing path is not a file)


def test_two_concurrent_collect_processes_lose_nothing(tmp_path):
    a, b = make_returns(tmp_path / "a", 12, seed=1), make_returns(tmp_path / "b", 12, seed=2)
    for p in a[:4]:  # overlap: the same files in both folders
        (tmp_path / "b" / ("dup-" + p.name)).write_bytes(p.read_bytes())
    db = tmp_path / "shared.sqlite"
    Store(db).close()
    cmd = [sys.executable, "-m", "cli.main", "collect", "--db", str(db), "--workers", "1"]
    procs = [subprocess.Popen([*cmd, str(tmp_path / d)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              cwd=Path(__file__).resolve().parent.parent) for d in ("a", "b")]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    with Store(db) as s:
        counts = s.counts()
        assert counts["files"] == len({p.read_bytes() for p in [*a, *b]})  # 24 distinct files
        assert counts["sightings"] == 12 + 16
        # units in a and b share budget codes (same synthetic numbering): one current per unit
        assert counts["current"] == len({p.name for p in [*a, *b]})


def test_status_against_roster(tmp_path, store):
    paths = make_returns(tmp_path / "in", 3)
    collect([tmp_path / "in"], store, workers=1)
    rng = random.Random(1)
    roster = [Unit(n, c, 2021, d) for c, n, d in (synthetic_unit(i, rng) for i in range(4))]
    states = {s.budget_code: s.state for s in unit_status(store, 2021, roster)}
    assert states[roster[3].budget_code] == "未报送"
    assert len(states) == 4 and len(paths) == 3


def test_consolidated_figures_equal_sums_of_reports(tmp_path, store):
    make_returns(tmp_path / "in", 8)
    collect([tmp_path / "in"], store, workers=1)
    rows = store.current(2021)
    tables = build_tables(rows, 2021)
    summary = tables.frames["汇总"]
    assert len(summary) == 8
    by_code = {r["budget_code"]: r for r in rows}
    for _, rec in summary.iterrows():
        assert rec["总分"] == by_code[rec["预算编码"]]["total"]
    fin = tables.frames["财务汇总（万元）"]
    district = fin.iloc[-1]
    assert district["收入合计"] == pytest.approx(sum(r["report"]["computed"]["income_total"] for r in rows), abs=0.01)
    assert district["三公经费合计"] == pytest.approx(sum(r["report"]["computed"]["sangong_total"] for r in rows), abs=0.01)
    assert fin.iloc[:-1]["单位数"].sum() == 8
    dept = tables.frames["分部门汇总"]
    assert dept.iloc[-1]["计入单位数"] == 8 and dept.iloc[:-1]["计入单位数"].sum() == 8
    assert sum(tables.grade_counts.values()) == 8
    ind = tables.frames["指标分析"]
    assert len(ind) == 23
    assert ind.iloc[0]["平均得分"] == pytest.approx(summary[ind.iloc[0]["三级指标"]].mean(), abs=0.01)
    assert len(tables.findings) == sum(len(r["report"]["findings"]) for r in rows)


def test_formula_injection_is_written_as_text(tmp_path, store):
    evil = '=HYPERLINK("http://x","点我")'
    p = tmp_path / "evil.xlsx"
    factory().write(p, Unit(evil, "666666", 2021, "@SUM(1+1)"), unit_values(seed_inputs()))
    collect([p], store, workers=1)
    out = tmp_path / "d.xlsx"
    consolidate(store, 2021, out, csv_dir=tmp_path / "csv")
    wb = openpyxl.load_workbook(out)
    ws = wb["汇总"]
    cell = next(c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value)
    # the text exactly as the unit typed it, as a string cell with the quote-prefix style (no apostrophe shown)
    assert cell.data_type == "s" and cell.value == evil and cell.quotePrefix
    dept = next(c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "SUM(1+1)" in c.value)
    assert dept.data_type == "s" and dept.value == "@SUM(1+1)" and dept.quotePrefix
    plain = next(c for row in ws.iter_rows() for c in row if c.value == "报送日期" or c.value == "单位名称")
    assert not plain.quotePrefix
    with zipfile.ZipFile(out) as z:
        assert not any(re.search(r"<f>[^<]*HYPERLINK", z.read(n).decode("utf-8"))
                       for n in z.namelist() if n.startswith("xl/worksheets/"))
    with (tmp_path / "csv" / "汇总.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert any(v == "'" + evil for r in rows for v in r)
    assert not any(v.startswith(("=", "+", "@")) for r in rows for v in r)
    assert safe_text("-1") == "'-1" and safe_text(-1) == -1 and safe_text("正常") == "正常"


@pytest.mark.libreoffice
def test_consolidated_workbook_recalculates_in_libreoffice(tmp_path, store):
    require_soffice()
    from workbook.libreoffice import recalculate

    make_returns(tmp_path / "in", 6)
    collect([tmp_path / "in"], store, workers=1)
    out = tmp_path / "district.xlsx"
    consolidate(store, 2021, out)
    cached = openpyxl.load_workbook(out, data_only=True)["汇总"]
    after = openpyxl.load_workbook(recalculate([out], tmp_path / "lo")[0], data_only=True)["汇总"]
    header = [c.value for c in cached[2]]
    total_col = header.index("总分") + 1
    avg_row = 9  # title + header + 6 units + 1
    assert cached.cell(avg_row, 1).value == "全区平均"
    assert after.cell(avg_row, total_col).value == pytest.approx(cached.cell(avg_row, total_col).value, abs=0.005)
    values = [cached.cell(r, total_col).value for r in range(3, 9)]
    from workbook.numbers import q2, to_decimal

    assert after.cell(avg_row, total_col).value == pytest.approx(float(q2(to_decimal(sum(values) / 6))), abs=0.005)


def test_next_year_prefill_from_store(tmp_path, store):
    p = tmp_path / "2021.xlsx"
    factory().write(p, SEED_UNIT, unit_values({**seed_inputs(), "sangong_budget": 3.5, "sangong_reception": 1.2,
                                               "balance_accumulated": 0}))
    collect([p], store, workers=1)
    assert store.prior_year_prefill("200009", 2021) == {"sangong_prior_budget": 3.5, "sangong_prior_actual": 1.2,
                                                        "income_carryover": 0}
    roster = tmp_path / "roster.csv"
    roster.write_text("预算编码,单位名称,主管部门\n200009,岳阳市岳阳楼区社会保险服务中心,人社局\n200010,新单位,人社局\n",
                      encoding="utf-8")
    res = runner.invoke(app, ["generate", "--roster", str(roster), "--year", "2022", "--out-dir", str(tmp_path / "o"),
                              "--db", str(tmp_path / "j.sqlite")])
    assert res.exit_code == 0, res.output
    assert "1 个单位已用上年报表预填" in res.output
    from .helpers import named_values

    v = named_values(tmp_path / "o" / "200009-岳阳市岳阳楼区社会保险服务中心.xlsx")
    assert (v["year"], v["sangong_prior_budget"], v["sangong_prior_actual"], v["income_carryover"]) == (2022, 3.5, 1.2, 0)


def test_cli_collect_status_consolidate(tmp_path):
    make_returns(tmp_path / "in", 3)
    (tmp_path / "in" / "bad.xlsx").write_text("x", encoding="utf-8")
    db = tmp_path / "j.sqlite"
    res = runner.invoke(app, ["collect", str(tmp_path / "in"), "--db", str(db)])
    assert res.exit_code == 2 and "新收 3" in res.output and "拒收 1" in res.output and "bad.xlsx" in res.output
    res = runner.invoke(app, ["status", "--year", "2021", "--db", str(db), "--json"])
    assert res.exit_code == 0 and len(__import__("json").loads(res.output)) == 3
    res = runner.invoke(app, ["consolidate", "--year", "2021", "--db", str(db), "-o", str(tmp_path / "d.xlsx"),
                              "--csv", str(tmp_path / "csv")])
    assert res.exit_code == 0, res.output
    assert openpyxl.load_workbook(tmp_path / "d.xlsx").sheetnames[0] == "汇总"
    res = runner.invoke(app, ["status", "--year", "2021", "--db", str(tmp_path / "none.sqlite")])
    assert res.exit_code == 2 and "不存在" in res.output


def test_demo_runs_end_to_end(tmp_path):
    res = runner.invoke(app, ["demo", "--out-dir", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    district = tmp_path / "demo" / "3-汇总" / "2021年度绩效自评汇总.xlsx"
    wb = openpyxl.load_workbook(district)
    assert wb.sheetnames[:6] == ["汇总", "分部门汇总", "指标分析", "审核结果", "财务汇总（万元）", "未报送"]
    missing = [r[1] for r in wb["未报送"].iter_rows(min_row=3, values_only=True)]
    assert len(missing) == 1
    codes = {r[-1] for r in wb["审核结果"].iter_rows(min_row=3, values_only=True)}
    assert {"formula_tampered", "score_mismatch", "missing_input", "text_mismatch", "note_missing"} <= codes
    assert "拒收" in res.output and "未报送" in res.output and "已收集项目报回" in res.output
    with Store(tmp_path / "demo" / "jixiao.sqlite") as s:
        projects = list(s.iter_current(2021, form="jixiao.xiangmu"))
        # units with 项目支出 get 2–3 projects each; one of them sends none back (the cross-form check's case)
        assert len(projects) >= 8 and not any(p["hold"] for p in projects)
        assert "项目支出汇总" in res.output and "跨表核对" in res.output
        assert s.counts()["rejected"] == 1
        assert len([h for h in s.history("900010", 2021)]) == 2  # the resubmission kept its history
