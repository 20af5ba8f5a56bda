"""A small fixed district: store rows (as Store.iter_current yields them) with hand-chosen scores, money and findings.

Seven returns are ranked (totals 100, 95, 95, 90, 72.25, 60, 58: every score-bin edge), one has errors and is
excluded; two departments plus a unit without one; a unit name and a finding message that start like formulas;
a roster with two units that sent nothing.  tests/test_district_reference.py holds the hand-computed figures.
"""

from __future__ import annotations

from typing import Any

from workbook.form.unit import Unit
from workbook.template import default_template

EDU, FIN = "岳阳楼区教育局", "岳阳楼区财政局"
MONEY_KEYS = ("income_total", "exp_basic", "exp_project", "exp_total", "sangong_total", "assets_total")


def _scores(deductions: dict[str, float]) -> dict[str, float]:
    t = default_template()
    return {i.id: float(i.max) - deductions.get(i.id, 0.0) for i in t.indicators}


F_CUTS = {"benefit": 15, "satisfaction": 5, "duty_xinzengji": 7, "duty_xiaokang": 5, "sangong_change": 5,
          "key_spend_rate": 3}
#        code      name                                   dept  total  grade deductions (indicator: points off)
UNITS: list[tuple[str, str, str, float, str, dict[str, float]]] = [
    ("300001", "岳阳楼区第一中学", EDU, 100.0, "优", {}),
    ("300002", "岳阳楼区第二中学", EDU, 95.0, "优", {"benefit": 5}),
    ("300003", "=1+1 岳阳楼区公式开头的中心", "", 95.0, "优", {"satisfaction": 5}),
    ("300004", "岳阳楼区教育局机关", EDU, 90.0, "优", {"benefit": 10}),
    ("300005", "岳阳楼区国库集中支付中心（名称很长的一个事业单位，用来检验自动行高与换行）", FIN, 72.25, "中",
     {"benefit": 15, "duty_xinzengji": 7, "staff_control": 0.75, "satisfaction": 5}),
    ("300006", "岳阳楼区非税收入征收管理局", FIN, 60.0, "中", F_CUTS),
    ("300007", "岳阳楼区财政局机关", FIN, 58.0, "差", {**F_CUTS, "budget_adjust_rate": 2}),
    ("300008", "-岳阳楼区有错误的中心（名称以减号开头）", FIN, 90.0, "优", {}),
]
#          income   basic  project  total   三公    资产
MONEY: dict[str, tuple[float | None, ...]] = {
    "300001": (100.5, 60.25, 40.0, 100.25, 1.5, 500.0),
    "300002": (200.0, 150.0, 50.0, 200.0, 0.125, 800.0),
    "300003": (10.0, 10.0, None, 10.0, 0.0, 0.0),
    "300004": (50.0, 30.0, 20.0, 50.0, 0.0, 100.0),  # exp_basic given as an input only (not computed)
    "300005": (70.0, 40.0, 30.0, 70.0, 2.0, 300.0),
    "300006": (60.0, 30.0, 30.0, 60.0, 1.0, 200.0),
    "300007": (40.75, 20.5, 20.25, 40.75, 0.5, 50.0),
    "300008": (9999.0, 9999.0, 9999.0, 9999.0, 9999.0, 9999.0),
}
FINDINGS: dict[str, list[dict[str, Any]]] = {
    "300002": [{"severity": "warning", "code": "note_missing", "where": "staff_control",
                "message": "财政供养人员控制率扣分，未说明原因", "explained": True, "explanation": "编制调整"}],
    "300005": [{"severity": "warning", "code": "target_deviation", "where": "benefit", "check": "deviation_benefit",
                "message": "=效益指标偏离目标值 30%"}],
    "300007": [{"severity": "notice", "code": "mystery_code", "where": "Z99", "message": "未知严重程度与代码"},
               {"severity": "info", "code": "leased_assets", "where": "assets_total", "message": "有出租资产"}],
    "300008": [{"severity": "warning", "code": "not_recalculated", "where": "total", "message": "未重新计算"},
               {"severity": "error", "code": "invalid_input", "where": "exp_personnel", "message": "人员支出为负数"},
               {"severity": "error", "code": "score_mismatch", "where": "total", "message": "总分与复算不符"},
               {"severity": "error", "code": "formula_tampered", "where": "B5", "message": "公式被修改"},
               {"severity": "error", "code": "invalid_input", "where": "exp_public", "message": "公用支出为负数"},
               {"severity": "error", "code": "template_modified", "where": "", "message": "模板被修改"}],
}
ROSTER_EXTRA = [Unit("岳阳楼区未报送的学校", "300009", 2021, EDU), Unit("没有主管部门的未报送单位", "300010", 2021),
                Unit("@名称以 @ 开头的未报送单位", "300011", 2021, FIN)]


def district_rows() -> list[dict[str, Any]]:
    """The store rows of the fixed district (ordered by budget code, as iter_current yields them)."""
    t = default_template()
    rows = []
    for code, name, dept, total, grade, cuts in UNITS:
        scores = _scores(cuts) if code != "300008" else {i.id: 0.0 for i in t.indicators}
        indicators = [{"id": k, "score": v, "not_applicable": code == "300007" and k == "sangong_change"}
                      for k, v in scores.items()]
        subtotals = {lv.id: sum(scores[i.id] for i in t.indicators if i.level == lv.id) for lv in t.levels}
        money = dict(zip(MONEY_KEYS, MONEY[code], strict=True))
        inputs: dict[str, Any] = {}
        if code == "300004":
            inputs["exp_basic"] = money.pop("exp_basic")
        report: dict[str, Any] = {"total": total, "grade": grade, "indicators": indicators, "subtotals": subtotals,
                                  "computed": money, "findings": FINDINGS.get(code, [])}
        if code != "300008":  # the excluded return leaves errors/warnings to be counted from its findings
            report["errors"] = 0
            report["warnings"] = sum(f["severity"] == "warning" for f in report["findings"])
        if code != "300003":
            report["cached_total"] = total
        ret = {"inputs": inputs, "explanations": {"deviation_benefit": "单位说明：受疫情影响"} if code == "300005" else {}}
        rows.append({"budget_code": code, "unit_name": name, "parent_dept": dept or None, "return": ret,
                     "report": report})
    return rows


def district_roster() -> list[Unit]:
    return [Unit(name, code, 2021, dept or None) for code, name, dept, *_ in UNITS] + ROSTER_EXTRA
