"""The 附件3-1 part of the demo: a project roster (2–3 projects per unit), one workbook per project
(registered in the store and signed, as `jixiao generate --form xiangmu` does) and the units' filled
project returns (synthetic, marked 演示); `collect_projects` collects them into the store.
"""

from __future__ import annotations

import csv
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from templates.xiangmu_samples import PROJECTS, project_inputs  # the form's sample data

from .form.project_roster import issue_record, project_filename, read_project_roster
from .form.rowform import xiangmu_template
from .form.unit import Unit
from .generate.rows import RowWorkbookFactory
from .numbers import ZERO, q2


@dataclass
class ProjectDemo:
    roster: Path
    workbooks: Path
    returns: Path
    projects: list[Unit]
    scenarios: dict[str, str] = field(default_factory=dict)
    collected: Any = None  # the CollectSummary once collected
    district: Path | None = None  # the 项目支出 district workbook once consolidated
    cross_findings: list[Any] = field(default_factory=list)  # crossform.CrossFinding of the demo year


def _shares(total: Decimal, n: int, rng: random.Random) -> list[Decimal]:
    """n positive amounts (万元, 2 decimals) adding up to `total`."""
    weights = [Decimal(rng.randint(1, 9)) for _ in range(n)]
    parts = [q2(total * w / sum(weights)) for w in weights[:-1]]
    return [*parts, q2(total - sum(parts, ZERO))]


def write_project_roster(path: Path, units: list[tuple[str, str, str]], rng: random.Random,
                         spend: dict[str, Any] | None = None, over: str | None = None) -> None:
    """2–3 projects per unit (预算编码, 单位名称, 主管部门, 项目名称, 项目编码, 年初预算数).

    With `spend` (a unit's 附件3-2 项目支出 by budget code) only units with 项目支出 > 0 have projects, and their
    年初预算数 add up to it, so that execution stays within it; the unit `over` gets one project budgeted (and
    executed) beyond it, for the cross-form check to find.
    """
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["预算编码", "单位名称", "主管部门", "项目名称", "项目编码", "年初预算数"])
        for code, name, dept in units:
            picks = rng.sample(PROJECTS, rng.choice([2, 3]))
            if spend is None:
                budgets = [Decimal(rng.randint(20, 400)) for _ in picks]
            else:
                total = Decimal(str(spend.get(code) or 0))
                if total <= 0:
                    continue
                budgets = _shares(total, len(picks), rng)
                if code == over:
                    budgets[0] += total
            for k, (project, budget) in enumerate(zip(picks, budgets, strict=True), start=1):
                w.writerow([code, name, dept, f"{project}（演示）", f"XM{code}-{k:02d}", budget])


def run_project_demo(out: Path, units: list[tuple[str, str, str]], year: int, rng: random.Random,
                     store: Any = None, skip: set[str] = frozenset(), spend: dict[str, Any] | None = None,
                     over: str | None = None) -> ProjectDemo:
    """Roster, workbooks and filled returns of every unit's projects (units in `skip` send none back; `spend`
    and `over` as in write_project_roster); with a store, every workbook is signed with its key and registered."""
    form = xiangmu_template()
    roster = out / "项目花名册.csv"
    write_project_roster(roster, units, rng, spend, over)
    projects = read_project_roster(roster, year, form)
    factory = RowWorkbookFactory(form, key=store.key if store is not None else None)
    issued: list[dict[str, Any]] = []
    workbooks, returns = out / "1-项目工作簿", out / "4-项目报回"
    workbooks.mkdir(exist_ok=True)
    returns.mkdir(exist_ok=True)
    demo = ProjectDemo(roster, workbooks, returns, projects)
    for n, unit in enumerate(projects):
        name = project_filename(unit)
        rid = str(uuid.uuid4())
        factory.write(workbooks / name, unit, return_id=rid)
        issued.append(issue_record(unit, form, rid, workbooks / name))
        if unit.budget_code in skip:
            continue
        quality = ["good", "good", "fair", "poor"][n % 4]
        factory.write(returns / name, unit, project_inputs(form, rng, quality, unit.prefill),
                      return_id=rid)
        demo.scenarios[name] = {"good": "项目完成好", "fair": "执行率或指标有偏差，已写原因",
                                "poor": "偏差较大，部分未写原因（审核警告）"}[quality]
        if unit.budget_code == over:
            demo.scenarios[name] += "；本单位各项目执行数合计超过其附件3-2 项目支出（跨表核对警告）"
    if store is not None:
        store.register(issued)
    return demo


def collect_projects(store: Any, demo: ProjectDemo) -> Any:
    """Collect the project returns into the store (each the current return of its project)."""
    from .collect import collect

    return collect(sorted(demo.returns.iterdir()), store, workers=1)
