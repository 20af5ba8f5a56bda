"""Plausible synthetic returns (clearly labelled 合成) for the demo and the benchmarks; the form's own sample
inputs come from templates/zhengti_samples.py."""

from __future__ import annotations

import random
from typing import Any

from templates.zhengti_samples import synthetic_inputs

from .engine import score
from .template import Template, default_template

__all__ = ["synthetic_inputs", "synthetic_unit", "with_notes"]

DEPTS = ["区教育局", "区卫生健康局", "区人力资源和社会保障局", "区住房和城乡建设局", "区农业农村局", "区民政局"]
KINDS = ["中心", "服务站", "管理所", "事务中心", "监测站", "保障中心"]


def with_notes(inputs: dict[str, Any], template: Template | None = None) -> dict[str, Any]:
    """Add a 扣分原因 for every deducted indicator, as a careful clerk would."""
    report = score(inputs, template or default_template())
    out = dict(inputs)
    for r in report.indicators:
        if r.status == "ok" and r.score < r.max:
            out[f"note_{r.id}"] = f"（合成数据）{r.basis}"
    return out


def synthetic_unit(i: int, rng: random.Random) -> tuple[str, str, str]:
    """(budget code, unit name, parent department) of synthetic unit i."""
    dept = DEPTS[i % len(DEPTS)]
    return f"9{i:05d}", f"合成单位{i:04d}{rng.choice(KINDS)}（演示）", dept
