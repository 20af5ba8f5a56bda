"""Sample data of the 附件3-2 form (jixiao.zhengti), clearly labelled 合成: plausible synthetic units for
the demo and the benchmarks, and the demo's scenario edits.

Form-specific by nature, so it lives with the form in templates/ (workbook/synthetic.py and
workbook/demo.py are generic and call it).
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from workbook.numbers import q2


def _m(x: float) -> float:
    return float(q2(Decimal(repr(x))))


def synthetic_inputs(rng: random.Random, quality: str = "good") -> dict[str, Any]:
    """Raw inputs of one plausible unit.  quality: good (near full marks) | fair | poor."""
    off = {"good": 0.0, "fair": 0.35, "poor": 0.8}[quality]
    quota = rng.randint(8, 120)
    actual = quota - rng.randint(0, max(1, quota // 6)) if rng.random() > off * 0.6 else quota + rng.randint(1, 5)
    fiscal = _m(rng.uniform(80, 3000))
    carry = _m(rng.uniform(0, fiscal * 0.05)) if rng.random() < 0.4 else 0.0
    other = _m(rng.uniform(0, 30)) if rng.random() < 0.2 else 0.0
    income = fiscal + carry + other
    project = _m(rng.uniform(0, income * 0.4)) if rng.random() < 0.6 else 0.0
    personnel = _m((income - project) * rng.uniform(0.6, 0.85))
    public = _m(income - project - personnel - (rng.uniform(0, carry) if carry else 0))
    exp_total = personnel + public + project
    accumulated = _m(income - exp_total)
    sg_budget = _m(rng.uniform(0, 20))
    sg_prior = _m(sg_budget * rng.uniform(0.9, 1.1 + off * 0.2)) if sg_budget else 0.0
    reception = _m(sg_budget * rng.uniform(0.2, 0.6 + off * 0.6))
    vehicle = _m(sg_budget * rng.uniform(0.1, 0.4))
    assets = _m(rng.uniform(10, 800))
    leased = _m(assets * rng.uniform(0, 0.1)) if rng.random() < 0.1 else 0.0
    idle = _m(assets * rng.uniform(0, off * 0.1)) if rng.random() < off else 0.0
    initial = _m(income * rng.uniform(0.85, 1.0))
    yes = lambda p=off: "否" if rng.random() < p * 0.3 else "是"  # noqa: E731
    inputs: dict[str, Any] = {
        "eval_method": "部门（单位）绩效自评", "eval_org": "部门（单位）评价组", "report_date": "2022-05-17",
        "contact_name": rng.choice(["张敏", "李强", "王芳", "刘洋", "陈静", "杨帆"]),
        "contact_phone": f"1{rng.randint(3, 9)}{rng.randint(100000000, 999999999)}",
        "staff_quota": quota, "staff_actual": actual,
        "duties": "（合成数据）负责本单位职能范围内的公共服务和管理工作。",
        "main_tasks": "目标1：完成年度重点工作\n目标2：加强内部管理\n目标3：提升服务质量",
        "achievements": "（合成数据）全年各项工作按计划推进，重点任务按期完成。",
        "income_carryover": carry or None, "income_fiscal": fiscal, "income_other": other or None,
        "exp_personnel": personnel, "exp_public": public, "exp_project": project or None,
        "balance_accumulated": accumulated, "balance_current": _m(accumulated - carry),
        "sangong_reception": reception, "sangong_vehicle_ops": vehicle, "sangong_budget": sg_budget,
        "sangong_prior_budget": sg_prior, "sangong_prior_actual": _m(sg_prior * 0.95),
        "assets_in_use": _m(assets - leased - idle), "assets_leased": leased or None, "assets_other": idle or None,
        "key_spend": _m(project * rng.uniform(0.55 if off else 0.9, 1.0)),
        "budget_initial": initial, "budget_add": _m(income - initial) if income > initial else 0.0, "budget_cut": 0,
        "budget_restructure": _m(rng.uniform(0, initial * off * 0.1)), "budget_exempt": 0,
        "late_fund_count": rng.choice([0, 0, 0, 1, 2]) if off else 0,
        "rules_exist": "是", "rules_lawful": yes(), "rules_enforced": yes(),
        "compliance_violations": rng.choice([0, 0, 1]) if off else 0,
        "disclose_content": "是", "disclose_timely": yes(), "info_true": "是", "info_complete": yes(),
        "info_accurate": yes(),
        "procure_budget": _m(rng.uniform(0, 100)), "card_eligible": _m(rng.uniform(5, 60)),
        "asset_rules_exist": "是", "asset_rules_enforced": yes(), "asset_violations": rng.choice([0, 0, 1]) if off else 0,
        "duty_xiaokang": round(5 - rng.uniform(0, 2 * off), 1), "duty_xinzengji": round(7 - rng.uniform(0, 3 * off), 1),
        "duty_gov_report": round(5 - rng.uniform(0, 2 * off), 1), "duty_livelihood": 2, "duty_key_projects": 2,
        "duty_other": round(4 - rng.uniform(0, 2 * off), 1), "benefit_score": round(15 - rng.uniform(0, 6 * off), 1),
        "satisfaction_rate": round(rng.uniform(96 - 25 * off, 100), 1),
        "overview": f"（合成数据）本单位核定编制{quota}人，实有{actual}人。",
        "problems": "（合成数据）绩效目标设置还不够细化。", "improvements": "（合成数据）进一步细化绩效指标。",
    }
    inputs["procure_actual"] = _m(inputs["procure_budget"] * rng.uniform(0.9 if off else 1.0, 1.0))
    inputs["card_paid"] = _m(inputs["card_eligible"] * rng.uniform(0.3 if off else 0.55, 0.9))
    return inputs


# The demo's scenarios (workbook.demo): each edits a synthetic unit's inputs in place and says what it shows.
def leave_required_blank(inputs: dict[str, Any]) -> str:
    inputs["card_paid"] = None
    return "漏填一项必填数据（公务卡支付金额）：评分表显示“未填”，审核为错误"


def over_quota_explained(inputs: dict[str, Any]) -> str:
    inputs["staff_actual"] = inputs["staff_quota"] + 3
    inputs["overview"] = f"（合成数据）本单位核定编制{inputs['staff_quota']}人，实有{inputs['staff_actual']}人。"
    inputs["note_staff_control"] = "（合成数据）年中接收安置人员，超编 3 人"
    inputs["explain_staff_exceeds_quota"] = "（合成数据）接收军转安置人员，编制调整已报编办"
    return "实有人数超编：扣分并写明原因，审核警告已在“审核说明”中解释"


def late_funds(inputs: dict[str, Any]) -> None:
    """支付进度扣分（两个专项未按进度下达）."""
    inputs["late_fund_count"] = 2
