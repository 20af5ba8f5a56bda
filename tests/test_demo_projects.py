"""The demo's 附件3-1 part: 2–3 projects per unit, a workbook each, filled returns that verify clean."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

from workbook.demo_projects import collect_projects, run_project_demo
from workbook.form.project_roster import read_project_roster
from workbook.form.rowform import xiangmu_template
from workbook.read import read_return
from workbook.store import Store
from workbook.verify import verify

from .conftest import ROOT

UNITS = [("200009", "岳阳市岳阳楼区社会保险服务中心", "区人社局"), ("900001", "合成单位0001（演示）", "区财政局"),
         ("900002", "合成单位0002（演示）", "区财政局")]


def test_project_demo_writes_roster_workbooks_and_clean_returns(tmp_path):
    demo = run_project_demo(tmp_path, UNITS, 2021, random.Random(1), skip={"900002"})
    per_unit = Counter(u.budget_code for u in demo.projects)
    assert set(per_unit) == {"200009", "900001", "900002"} and all(2 <= n <= 3 for n in per_unit.values())
    assert len(list(demo.workbooks.iterdir())) == len(demo.projects)
    returns = sorted(demo.returns.iterdir())
    assert returns and not any(p.name.startswith("900002") for p in returns)
    for p in returns:
        v = verify(read_return(p))
        assert v.ret.row_form is not None and not v.report.has_errors, (p.name, v.findings)
        assert v.ret.unit["project_name"].endswith("（演示）")
        assert not {f.code for f in v.findings} & {"score_mismatch", "formula_tampered", "template_modified"}


def test_sample_project_roster_reads():
    projects = read_project_roster(ROOT / "samples" / "项目花名册.csv", 2021, xiangmu_template())
    assert projects and all(u.prefill.get("project_name") for u in projects)


def test_project_returns_are_registered_signed_and_collected_per_project(tmp_path):
    with Store(tmp_path / "j.sqlite") as store:
        demo = run_project_demo(tmp_path, UNITS, 2021, random.Random(2), store, skip={"900002"})
        got = collect_projects(store, demo)
        rows = list(store.iter_current(2021, form="jixiao.xiangmu"))
        assert got.new == len(rows) == len(list(demo.returns.iterdir())) and got.rejected_count == 0
        assert not any(r["hold"] for r in rows), [r["hold"] for r in rows]
        assert {r["budget_code"] for r in rows} == {"200009", "900001"} and store.current(2021) == []
        assert len({(r["budget_code"], r["project_key"]) for r in rows}) == len(rows)


def test_projects_are_budgeted_within_each_units_project_spend(tmp_path):
    """With the units' 项目支出, only units that have some get projects, budgeted to add up to it exactly,
    except the unit chosen to exceed it (its first project gets the whole amount once more)."""
    spend = {"200009": 0, "900001": 100.5, "900002": 37}
    demo = run_project_demo(tmp_path, UNITS, 2021, random.Random(3), spend=spend, over="900002")
    budgets: dict[str, Decimal] = {}
    for u in demo.projects:
        budgets[u.budget_code] = budgets.get(u.budget_code, Decimal(0)) + Decimal(str(u.prefill["funds_current_initial"]))
    assert budgets == {"900001": Decimal("100.5"), "900002": Decimal("74")}
    assert all("跨表核对" in what for name, what in demo.scenarios.items() if name.startswith("900002"))


def test_the_demo_shows_one_excess_and_one_unit_without_projects(tmp_path):
    from workbook.demo import run_demo

    result = run_demo(tmp_path / "demo")
    codes = sorted(f.code for f in result.projects.cross_findings if f.severity == "warning")
    assert codes == ["projects_exceed_unit", "projects_missing"]
    assert result.projects.district.exists()
