"""Sample data of the 附件3-1 form (jixiao.xiangmu), clearly labelled 演示/合成: the demo's project names
and filled project returns.

Form-specific by nature, so it lives with the form in templates/ (workbook/demo_projects.py is generic
and calls it), as templates/zhengti_samples.py does for 附件3-2.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from workbook.form.rowform import RowForm

PROJECTS = ["业务运行经费", "信息化建设项目", "专项工作经费", "设备购置项目", "宣传培训项目"]
ROW_NAMES = {"output": ["完成工作任务数", "质量达标率", "按时完成率", "成本控制率"],
             "benefit": ["服务对象受益人数", "社会影响"], "satisfaction": ["服务对象满意度"]}



def _split(points: Decimal, n: int, rng: random.Random) -> list[Decimal]:
    """n whole-number shares adding up to `points`."""
    cuts = sorted(rng.sample(range(1, int(points)), n - 1)) if n > 1 else []
    edges = [0, *cuts, int(points)]
    return [Decimal(b - a) for a, b in zip(edges, edges[1:], strict=False)]


def project_inputs(form: RowForm, rng: random.Random, quality: str,
                   prefill: dict[str, Any] | None = None) -> dict[str, Any]:
    """A synthetic filled 附件3-1: funds, goals, indicator rows whose 分值 add up, texts (the roster's
    年初预算数, prefilled, is the budget)."""
    budget = Decimal(str((prefill or {}).get("funds_current_initial") or rng.randint(20, 400)))
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
