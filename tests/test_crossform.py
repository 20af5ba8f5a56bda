"""Cross-form checks: a unit's 附件3-1 全年执行数 against its 附件3-2 项目支出, units with 项目支出 and no
project return, and the units that cannot be checked (returns with errors, no 附件3-2), over rows shaped as
the store yields them (real workbooks generated, filled, read and verified)."""

from __future__ import annotations

import pytest

from workbook.consolidate import CODE_ZH, money_of
from workbook.crossform import (
    EXCEED,
    MISSING,
    NOTHING,
    OK,
    SKIPPED,
    cross_form_checks,
    cross_form_findings,
    unit_project_key,
)
from workbook.form.unit import Unit
from workbook.template import FINDING_CODES, default_template

from .projects_support import funds, indicators, project_row, project_unit, unit_row

DEPT = "区教育局"


def unit(code: str, name: str) -> Unit:
    return Unit(name, code, 2021, DEPT)


def project(tmp, code: str, name: str, title: str, **money) -> dict:
    inputs = {**funds(**money), **indicators()}
    return project_row(tmp, project_unit(code, name, DEPT, title), inputs)


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cross")
    units = [
        unit_row(tmp, unit("300001", "甲单位"), exp_project=150),
        unit_row(tmp, unit("300002", "乙单位"), exp_project=100),
        unit_row(tmp, unit("300003", "丙单位"), exp_project=50),
        unit_row(tmp, unit("300004", "丁单位"), exp_project=30),
        unit_row(tmp, unit("300005", "戊单位")),  # 项目支出 blank (0) and no projects: nothing to check
        unit_row(tmp, unit("300006", "己单位"), exp_project=10, exp_personnel=-5000),  # an error in 附件3-2
        unit_row(tmp, unit("300008", "辛单位"), exp_project=40),
    ]
    bad_money = {"funds_other_executed": -3}
    projects = [
        project(tmp, "300001", "甲单位", "项目A", budget=100, executed=85),
        project(tmp, "300001", "甲单位", "项目B", budget=60, executed=40, carry_budget=20, carry_executed=15.5),
        project(tmp, "300002", "乙单位", "项目C", budget=100, executed=80),
        project(tmp, "300002", "乙单位", "项目D", budget=20, executed=20.02),
        project_row(tmp, project_unit("300002", "乙单位", DEPT, "项目E"),
                    {**funds(500, 500), **bad_money, **indicators()}),  # an error: not summed
        project(tmp, "300003", "丙单位", "项目F", budget=60, executed=50.01),  # 0.01 over: within the tolerance
        project(tmp, "300006", "己单位", "项目G", budget=10, executed=10),
        project(tmp, "300007", "庚单位", "项目H", budget=12, executed=12),  # no 附件3-2 at all
        project_row(tmp, project_unit("300008", "辛单位", DEPT, "项目I"),
                    {**funds(20, 20), **bad_money, **indicators()}),  # the unit's only project has an error
    ]
    assert [r["errors"] for r in units] == [0, 0, 0, 0, 0, 1, 0]
    assert [r["budget_code"] for r in projects if r["errors"]] == ["300002", "300008"]
    return units, projects


def test_new_codes_are_finding_codes_with_chinese_names():
    for code, severity in (("projects_exceed_unit", "warning"), ("projects_missing", "warning"),
                           ("cross_check_skipped", "info")):
        assert FINDING_CODES[code] == severity and CODE_ZH[code]
    assert unit_project_key() == money_of(default_template())["项目支出"] == "exp_project"


def test_every_unit_gets_a_hand_computed_result(rows):
    units, projects = rows
    checks = {c.budget_code: c for c in cross_form_checks(iter(units), iter(projects))}
    assert sorted(checks) == [f"30000{i}" for i in range(1, 9)]
    a = checks["300001"]  # 85 + (40 + 15.5) = 140.5 ≤ 150
    assert (a.result, float(a.executed), float(a.unit_amount), a.projects, a.counted) == (OK, 140.5, 150, 2, 2)
    assert float(a.difference) == -9.5 and a.finding is None
    b = checks["300002"]  # 80 + 20.02 = 100.02 > 100 + 0.01; the 500 of the return with an error is left out
    assert (b.result, float(b.executed), b.projects, b.counted, float(b.difference)) == (EXCEED, 100.02, 3, 2, 0.02)
    assert checks["300003"].result == OK and float(checks["300003"].difference) == 0.01  # at the tolerance
    assert checks["300004"].result == MISSING and checks["300004"].projects == 0
    assert checks["300005"].result == NOTHING and checks["300005"].finding is None
    assert checks["300006"].result == SKIPPED and checks["300006"].unit_amount is None
    assert checks["300007"].result == SKIPPED and checks["300007"].unit_errors is None
    assert checks["300007"].unit_name == "庚单位"  # named from its project returns
    assert checks["300008"].result == SKIPPED and checks["300008"].counted == 0


def test_findings_carry_both_figures_in_chinese(rows):
    units, projects = rows
    found = {f.budget_code: f for f in cross_form_findings(units, projects)}
    assert sorted(found) == ["300002", "300004", "300006", "300007", "300008"]
    over = found["300002"]
    assert (over.severity, over.code, over.unit_name, over.parent_dept) == ("warning", "projects_exceed_unit", "乙单位",
                                                                            DEPT)
    assert (over.unit_amount, over.projects_amount) == (100.0, 100.02)
    for text in ("全年执行数合计 100.02 万元", "附件3-2 项目支出 100.00 万元", "多 0.02 万元", "另有 1 份附件3-1 有错误"):
        assert text in over.message, over.message
    missing = found["300004"]
    assert (missing.severity, missing.code, missing.unit_amount, missing.projects_amount) == (
        "warning", "projects_missing", 30.0, None)
    assert "项目支出 30.00 万元" in missing.message and "项目表 0 份" in missing.message
    assert found["300006"].code == "cross_check_skipped" and found["300006"].severity == "info"
    assert "1 个错误" in found["300006"].message and "未与附件3-1（1 份）核对" in found["300006"].message
    assert "没有附件3-2" in found["300007"].message and "12.00 万元" in found["300007"].message
    assert "都有错误" in found["300008"].message and "40.00 万元" in found["300008"].message
    assert found["300002"].to_dict()["message"] == over.message


def test_a_unit_with_project_spending_and_no_returns_at_all_is_missing(rows):
    units, _ = rows
    found = cross_form_findings(units, [])
    assert {f.budget_code for f in found if f.code == "projects_missing"} == {"300001", "300002", "300003", "300004",
                                                                              "300008"}
    assert not [f for f in found if f.budget_code == "300005"]  # 项目支出 0: nothing is missing
