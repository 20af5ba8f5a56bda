"""附件3-1 as a row form: the template (repeating rows named per row) and the engine, against
hand-computed expectations (form-3-1.md)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook.form.rowform import parse_row_form, xiangmu_template
from workbook.rowengine import score_row_form
from workbook.template import TEMPLATES_DIR, TemplateError

T = xiangmu_template()
SOURCE = (TEMPLATES_DIR / "xiangmu.toml").read_text(encoding="utf-8")


def full_rows(**over) -> dict:
    """A return whose rows score full marks: output 50, benefit 30, satisfaction 10, funds 100 %."""
    d = {"funds_current_budget": 100, "funds_current_executed": 100,
         "ind_output_1_name": "培训人次", "ind_output_1_nature": "≥", "ind_output_1_target": 200,
         "ind_output_1_actual": 200, "ind_output_1_points": 30,
         "ind_output_2_name": "完成时间", "ind_output_2_nature": "≤", "ind_output_2_target": 12,
         "ind_output_2_actual": 12, "ind_output_2_points": 20,
         "ind_benefit_1_name": "就业率", "ind_benefit_1_nature": "定性", "ind_benefit_1_target": "提升",
         "ind_benefit_1_actual": "达成", "ind_benefit_1_points": 30,
         "ind_satisfaction_1_name": "满意度", "ind_satisfaction_1_nature": "≥", "ind_satisfaction_1_target": 90,
         "ind_satisfaction_1_actual": 95, "ind_satisfaction_1_points": 10}
    d.update(over)
    return d


def codes(report, where=None):
    return [f.code for f in report.findings if where is None or f.where == where]


def test_rows_are_named_per_row_and_counted_from_the_template():
    keys = T.input_keys()
    assert "ind_output_3_target" in keys and "ind_output_12_reason" in keys and "ind_output_13_name" not in keys
    assert "ind_satisfaction_3_points" in keys and "ind_satisfaction_4_points" not in keys
    assert sum(1 for k in keys if k.startswith("ind_")) == (12 + 8 + 3) * 7
    assert [lv.points for lv in T.levels] == [D(50), D(30), D(10)]
    assert {f.key for f in T.identity} >= {"budget_code", "project_name", "project_code", "year"}


def test_full_marks():
    r = score_row_form(T, full_rows())
    assert r.total == D(100) and r.grade == "优" and not r.findings
    assert r.computed["funds_rate"] == D(100)


def test_hand_computed_partial_return():
    r = score_row_form(T, full_rows(funds_current_executed=85, ind_output_1_actual=180,
                                    ind_benefit_1_actual="基本达成"))
    # funds 85 % → 8.5; output 30×180/200 = 27 + 20; benefit 30×0.8 = 24; satisfaction 10
    assert r.subtotals == {"funds": D("8.5"), "output": D(47), "benefit": D(24), "satisfaction": D(10)}
    assert r.total == D("89.5") and r.grade == "良"
    assert codes(r, "funds_reason") == ["note_missing"]
    assert codes(r, "ind_output_1") == ["note_missing"] and codes(r, "ind_benefit_1") == ["note_missing"]


def test_funds_rate_at_90_needs_no_reason_and_over_100_scores_full():
    assert codes(score_row_form(T, full_rows(funds_current_executed=90)), "funds_reason") == []
    assert codes(score_row_form(T, full_rows(funds_current_executed="89.99")), "funds_reason") == []  # text: invalid
    r = score_row_form(T, full_rows(funds_current_executed=D("89.99")))
    assert r.subtotals["funds"] == D("9.00") and codes(r, "funds_reason") == ["note_missing"]
    r = score_row_form(T, full_rows(funds_current_executed=130))
    assert r.subtotals["funds"] == D(10) and r.computed["funds_rate"] == D(130)


def test_funds_total_sums_the_rows_and_zero_budget_cases():
    r = score_row_form(T, full_rows(funds_current_budget=60, funds_current_executed=50, funds_carryover_budget=40,
                                    funds_carryover_executed=40, funds_reason="结转"))
    assert r.computed["funds_total_budget"] == D(100) and r.subtotals["funds"] == D(9)
    na = score_row_form(T, full_rows(funds_current_budget=None, funds_current_executed=None))
    assert na.subtotals["funds"] == D(10) and codes(na, "funds") == ["not_applicable"]
    assert "funds_rate" not in na.computed
    bad = score_row_form(T, full_rows(funds_current_budget=0, funds_current_executed=5))
    assert bad.subtotals["funds"] == 0 and codes(bad, "funds") == ["invalid_input"]


def test_negative_or_text_money_is_invalid_at_its_cell():
    r = score_row_form(T, full_rows(funds_other_executed=-1))
    assert codes(r, "funds_other_executed") == ["invalid_input"] and r.subtotals["funds"] == 0
    r = score_row_form(T, full_rows(funds_carryover_budget="很多"))
    assert codes(r, "funds_carryover_budget") == ["invalid_input"]


def test_level_points_must_add_up_and_rows_are_still_scored():
    r = score_row_form(T, full_rows(ind_output_2_points=15))
    assert codes(r, "output") == ["invalid_input"] and "45" in r.findings[0].message + r.findings[-1].message
    assert r.subtotals["output"] == D(45)


def test_unused_rows_are_ignored_entirely():
    r = score_row_form(T, full_rows(ind_output_5_points=99, ind_output_5_target=3))
    assert r.total == D(100) and not r.findings
    assert [x.id for x in r.indicators] == ["funds", "ind_output_1", "ind_output_2", "ind_benefit_1",
                                            "ind_satisfaction_1"]


def test_a_used_row_missing_a_value_scores_zero_with_one_finding():
    r = score_row_form(T, full_rows(ind_output_2_actual=None))
    assert r.indicator("ind_output_2").status == "missing"
    assert codes(r, "ind_output_2") == ["missing_input"] and r.subtotals["output"] == D(30)
    assert codes(r, "output") == []  # its 分值 still counts towards the level
    r = score_row_form(T, full_rows(ind_benefit_1_actual="差不多"))
    assert codes(r, "ind_benefit_1") == ["invalid_input"] and r.subtotals["benefit"] == 0


def test_target_deviation_warns_and_optionally_deducts():
    r = score_row_form(T, full_rows(ind_output_1_actual=260))  # +30 %
    assert codes(r, "ind_output_1") == ["target_deviation"] and r.total == D(100)
    strict = parse_row_form(SOURCE.replace("# deviation_deduction = 2", "deviation_deduction = 2"))
    r = score_row_form(strict, full_rows(ind_output_1_actual=260))
    assert r.subtotals["output"] == D(48) and r.total == D(98)


def test_cap_option_caps_the_total_and_the_grade_follows():
    capped = parse_row_form(SOURCE.replace("caps = []", 'caps = [[80, "none"], [70, 89], [60, 79], [50, 69], [0, 59]]'))
    r = score_row_form(capped, full_rows(funds_current_executed=75, funds_reason="进度"))
    assert r.computed["total_uncapped"] == D("97.5") and r.total == D(89) and r.grade == "良"
    r = score_row_form(capped, full_rows(funds_current_executed=80))
    assert r.total == r.computed["total_uncapped"] == D(98)  # the band includes its lower edge: no cap at 80 %
    r = score_row_form(capped, full_rows(funds_current_executed=D("79.99"), funds_reason="进度"))
    assert r.total == D(89)
    assert score_row_form(T, full_rows(funds_current_executed=75, funds_reason="进度")).total == D("97.5")


def test_long_texts_warn():
    r = score_row_form(T, full_rows(problems="问" * 201, conclusion="好" * 200))
    assert codes(r, "problems") == ["text_too_long"] and codes(r, "conclusion") == []


def test_values_are_read_as_the_workbook_reads_them():
    """A text "5" is not a number (ISNUMBER), a nature or grade word is compared as typed, and only ASCII spaces
    are blank (TRIM): the engine agrees with the workbook's formulas on each."""
    r = score_row_form(T, full_rows(ind_output_2_points="5"))
    assert r.indicator("ind_output_2").status == "invalid" and "invalid_input" in codes(r, "ind_output_2")
    r = score_row_form(T, full_rows(ind_output_1_nature=" ≥", ind_benefit_1_actual=" 达成"))
    assert r.indicator("ind_output_1").display == "无效" and r.indicator("ind_benefit_1").display == "无效"
    r = score_row_form(T, full_rows(ind_output_3_name="\t"))
    assert r.indicator("ind_output_3").display == "未填"
    r = score_row_form(T, full_rows(ind_output_3_name="   ", funds_other_budget="  "))
    assert [i.id for i in r.indicators if i.id == "ind_output_3"] == [] and r.total == D(100)


def test_audit_rows_follow_the_findings():
    """Each 审核 row's status from the template's [[checks]]: 通过 for a full return; the words otherwise."""
    assert set(score_row_form(T, full_rows()).audit.values()) == {"通过"}
    r = score_row_form(T, full_rows(funds_current_executed=120, ind_output_2_points=15, ind_output_1_actual=300,
                                    ind_satisfaction_1_actual=None, conclusion="好" * 201))
    assert r.audit == {"complete": "未完成", "rows_missing": "错误", "level_points": "错误", "funds_zero": "通过",
                       "funds_over": "警告", "funds_reason": "通过", "row_reasons": "通过", "deviation": "警告",
                       "texts": "警告"}
    assert [f.code for f in r.findings if f.where == "funds"] == ["exceeds_base"]
    r = score_row_form(T, {"funds_current_budget": 0, "funds_current_executed": 5, "funds_other_executed": "x"})
    assert r.audit["funds_zero"] == "无效" and r.audit["complete"] == "未完成"
    r = score_row_form(T, full_rows(funds_current_budget=0, funds_current_executed=5))
    assert r.audit["funds_zero"] == "错误" and r.audit["funds_over"] == "通过"


@pytest.mark.parametrize(("edit", "word"), [
    (('kind = "funds_over"', 'kind = "funds_under"'), "未知审核类型"),
    (('code = "exceeds_base"', 'code = "too_much"'), "未知问题代码"),
    (('["heading", "一、只填浅黄色单元格"]', '["title", "一、只填浅黄色单元格"]'), "guide.lines"),
    (('rows = 12', 'rows = 0'), "rows"),
    (('points = 50', 'points = 40'), "合计应为 100"),
    (('kind = "rows"', 'kind = "x"'), "行式模板"),
    (('["定性", "qualitative"]', '["定性", "fuzzy"]'), "natures"),
])
def test_template_problems_are_listed(edit, word):
    with pytest.raises(TemplateError) as e:
        parse_row_form(SOURCE.replace(*edit), "bad.toml")
    assert any(word in p for p in e.value.problems)


money = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=2))
nature = st.sampled_from(["≥", "≤", "=", "定性"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(nature, money, money, st.integers(0, 60)), min_size=0, max_size=12), money, money)
def test_total_is_the_sum_of_what_is_shown_and_within_bounds(rows, budget, executed):
    inputs = {"funds_current_budget": budget, "funds_current_executed": executed}
    for n, (nat, target, actual, pts) in enumerate(rows, 1):
        q = nat == "定性"
        inputs.update({f"ind_output_{n}_name": f"指标{n}", f"ind_output_{n}_nature": nat,
                       f"ind_output_{n}_target": "目标" if q else target,
                       f"ind_output_{n}_actual": "部分达成" if q else actual, f"ind_output_{n}_points": pts})
    r = score_row_form(T, inputs)
    assert r.total == sum(x.score for x in r.indicators)
    assert D(0) <= r.total <= D(100) or any(x.score > x.max for x in r.indicators) is False
    for x in r.indicators:
        assert D(0) <= x.score <= x.max
