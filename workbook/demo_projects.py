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

from .form.project_roster import project_filename, read_project_roster
from .form.rowform import RowForm, xiangmu_template
from .form.unit import Unit
from .generate.rows import RowWorkbookFactory

PROJECTS = ["业务运行经费", "信息化建设项目", "专项工作经费", "设备购置项目", "宣传培训项目"]
ROW_NAMES = {"output": ["完成工作任务数", "质量达标率", "按时完成率", "成本控制率"],
             "benefit": ["服务对象受益人数", "社会影响"], "satisfaction": ["服务对象满意度"]}


@dataclass
class ProjectDemo:
    roster: Path
    workbooks: Path
    returns: Path
    projects: list[Unit]
    scenarios: dict[str, str] = field(default_factory=dict)
    collected: Any = None  # the CollectSummary once collected


def write_project_roster(path: Path, units: list[tuple[str, str, str]], rng: random.Random) -> None:
    """2–3 projects per unit (预算编码, 单位名称, 主管部门, 项目名称, 项目编码, 年初预算数)."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["预算编码", "单位名称", "主管部门", "项目名称", "项目编码", "年初预算数"])
        for code, name, dept in units:
            for k, project in enumerate(rng.sample(PROJECTS, rng.choice([2, 3])), start=1):
                w.writerow([code, name, dept, f"{project}（演示）", f"XM{code}-{k:02d}", rng.randint(20, 400)])


def _split(points: Decimal, n: int, rng: random.Random) -> list[Decimal]:
    """n whole-number shares adding up to `points`."""
    cuts = sorted(rng.sample(range(1, int(points)), n - 1)) if n > 1 else []
    edges = [0, *cuts, int(points)]
    return [Decimal(b - a) for a, b in zip(edges, edges[1:], strict=False)]


def project_inputs(form: RowForm, rng: random.Random, quality: str, initial: Any = None) -> dict[str, Any]:
    """A synthetic filled 附件3-1: funds, goals, indicator rows whose 分值 add up, texts."""
    budget = Decimal(str(initial or rng.randint(20, 400)))
    rate = {"good": rng.randint(95, 100), "fair": rng.randint(80, 94), "poor": rng.randint(55, 80)}[quality]
    d: dict[str, Any] = {"manager": "（演示）张某", "phone": "0730-0000000",
                         "funds_current_budget": budget, "funds_current_executed": budget * rate / 100,
                         "goal_expected": "（合成数据）按计划完成项目年度任务。",
                         "goal_actual": "（合成数据）项目年度任务基本完成。"}
    if rate < 90:
        d[form.funds.reason_key] = "（合成数据）部分支出跨年度结算。"
    for lv in form.levels:
        names = ROW_NAMES.get(lv.id, ["指标"])
        n = min(lv.rows, len(names))
        for i, (name, pts) in enumerate(zip(names, _split(lv.points, n, rng), strict=False), start=1):
            key = lambda c, i=i, lv=lv: form.row_key(f"ind_{lv.id}_{i}", c)  # noqa: E731
            target = rng.randint(50, 200)
            short = quality != "good" and rng.random() < 0.5
            actual = target if not short else int(target * rng.uniform(0.6, 0.95))
            d.update({key("name"): name, key("nature"): "≥", key("target"): target, key("unit"): "项",
                      key("actual"): actual, key("points"): pts})
            if short and quality != "poor":
                d[key("reason")] = "（合成数据）受客观条件影响未全部完成，下年度加强进度管理。"
    d.update({"conclusion": "（合成数据）项目总体完成较好。", "problems": "（合成数据）个别指标未达预期。",
              "measures": "（合成数据）加强项目全过程绩效管理。"})
    return d


def run_project_demo(out: Path, units: list[tuple[str, str, str]], year: int, rng: random.Random,
                     store: Any = None, skip: set[str] = frozenset()) -> ProjectDemo:
    """Roster, workbooks and filled returns of every unit's projects (units in `skip` send none back); with a
    store, every workbook is signed with its key and registered."""
    form = xiangmu_template()
    roster = out / "项目花名册.csv"
    write_project_roster(roster, units, rng)
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
        issued.append({"return_id": rid, "budget_code": unit.budget_code, "unit_name": unit.unit_name,
                       "parent_dept": unit.parent_dept, "year": unit.year, "template_id": form.id,
                       "template_version": form.version, "file": str(workbooks / name),
                       "project_code": unit.prefill.get("project_code"),
                       "project_name": unit.prefill.get("project_name")})
        if unit.budget_code in skip:
            continue
        quality = ["good", "good", "fair", "poor"][n % 4]
        factory.write(returns / name, unit, project_inputs(form, rng, quality, unit.prefill.get("funds_current_initial")),
                      return_id=rid)
        demo.scenarios[name] = {"good": "项目完成好", "fair": "执行率或指标有偏差，已写原因",
                                "poor": "偏差较大，部分未写原因（审核警告）"}[quality]
    if store is not None:
        store.register(issued)
    return demo


def collect_projects(store: Any, demo: ProjectDemo) -> Any:
    """Collect the project returns into the store (each the current return of its project)."""
    from .collect import collect

    return collect(sorted(demo.returns.iterdir()), store, workers=1)
