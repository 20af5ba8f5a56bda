"""The Python scoring engine against rules.md: every rule kind at and around its edges."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workbook.engine import score
from workbook.template import DEFAULT_TEMPLATE, parse_template

from .conftest import seed_inputs


def run(**changes):
    inputs = seed_inputs()
    inputs.update(changes)
    return score(inputs)


def s(report, ind):
    return report.indicator(ind).score


def codes(report, severity=None):
    return [f.code for f in report.findings if severity is None or f.severity == severity]


def test_seed_scores_100_excellent():
    r = run()
    assert r.total == Decimal("100")
    assert r.grade == "优"
    assert not r.has_errors
    # the seed's own prose says 编制39人 while the table says 50
    assert "text_mismatch" in codes(r, "warning")


def test_seed_with_quota_39_scores_95():
    r = run(staff_quota=39)
    assert s(r, "staff_control") == 0  # 44/39 = 112.82% → 5 − 0.5×12.82 < 0
    assert r.total == Decimal("95")
    assert "exceeds_base" in codes(r, "warning")
    assert "text_mismatch" not in codes(r)  # the text now agrees


@pytest.mark.parametrize(("actual", "quota", "expected"), [
    (30, 30, "5"), (31, 30, "3.34"),            # 103.33% → 5 − 1.665 = 3.335 → 3.34
    (10101, 10000, "4.50"),                       # 101.01% → 5 − 0.505 = 4.495 → 4.50 (Excel ROUND)
    (44, 50, "5"), (110, 100, "0"), (105, 100, "2.5"), (120, 100, "0"),
])
def test_staff_control_proportional(actual, quota, expected):
    assert s(run(staff_actual=actual, staff_quota=quota), "staff_control") == Decimal(expected)


def test_staff_quota_zero_or_blank_is_error():
    r = run(staff_quota=0)
    assert s(r, "staff_control") == 0
    assert any(f.code == "invalid_input" and f.where == "staff_control" for f in r.findings)
    r = run(staff_quota=None)
    assert s(r, "staff_control") == 0
    assert r.indicator("staff_control").status == "missing"
    assert any(f.code == "missing_input" and f.where == "staff_quota" for f in r.findings)


@pytest.mark.parametrize(("adjust", "initial", "expected"), [
    (0, 100, "3"), (0.01, 100, "2"), (10, 100, "2"), (10.01, 100, "1"), (20, 100, "1"),
    (20.01, 100, "0.5"), (30.03, 100.1, "0.5"),   # 30.03/100.1 = 30.00% → (20,30]
    (30, 100, "0.5"), (30.01, 100, "0"), (50, 100, "0"),
])
def test_budget_adjust_bands(adjust, initial, expected):
    r = run(budget_add=adjust, budget_initial=initial)
    assert s(r, "budget_adjust_rate") == Decimal(expected)


def test_budget_adjust_is_floored_and_exempt_subtracted():
    r = run(budget_add=10, budget_cut=5, budget_restructure=0, budget_exempt=15, budget_initial=100)
    assert r.computed["budget_adjust"] == 0 and s(r, "budget_adjust_rate") == 3
    r = run(budget_add=1, budget_exempt=5, budget_initial=100)  # MAX(0, 1 − 5) = 0
    assert r.computed["budget_adjust"] == 0


def test_budget_initial_zero_is_error():
    r = run(budget_initial=0)
    assert s(r, "budget_adjust_rate") == 0
    assert "invalid_input" in codes(r, "error")


@pytest.mark.parametrize(("key_spend", "project", "expected"), [
    (90, 100, "5"), (89.99, 100, "4"), (80, 100, "4"), (79.99, 100, "3"), (70, 100, "3"),
    (60, 100, "2"), (59.99, 100, "0"), (0, 100, "0"), (100, 100, "5"),
])
def test_key_spend_bands(key_spend, project, expected):
    assert s(run(key_spend=key_spend, exp_project=project), "key_spend_rate") == Decimal(expected)


def test_key_spend_no_project_spending_is_not_applicable():
    r = run(exp_project=None, key_spend=0)
    ind = r.indicator("key_spend_rate")
    assert ind.score == 5 and ind.not_applicable
    assert any(f.code == "not_applicable" and f.severity == "info" and f.where == "key_spend_rate" for f in r.findings)


@pytest.mark.parametrize(("rate", "expected"), [(95, "5"), (94.99, "3"), (85, "3"), (84.99, "1"), (75, "1"),
                                                (74.99, "0"), (0, "0"), (100, "5")])
def test_satisfaction_bands(rate, expected):
    assert s(run(satisfaction_rate=rate), "satisfaction") == Decimal(expected)


def test_sangong_change_budget_basis():
    assert s(run(sangong_budget=10, sangong_prior_budget=10), "sangong_change") == 5
    assert s(run(sangong_budget=9, sangong_prior_budget=10), "sangong_change") == 5   # −10% ≤ 0
    assert s(run(sangong_budget=10.5, sangong_prior_budget=10), "sangong_change") == Decimal("2.5")  # 5%
    assert s(run(sangong_budget=12, sangong_prior_budget=10), "sangong_change") == 0


def test_sangong_change_zero_prior_budget():
    r = run(sangong_budget=0, sangong_prior_budget=0)
    assert s(r, "sangong_change") == 5 and "zero_base" not in codes(r)
    r = run(sangong_budget=3, sangong_prior_budget=0, sangong_reception=1)
    assert s(r, "sangong_change") == 0
    assert any(f.code == "zero_base" and f.where == "sangong_change" for f in r.findings)


def test_sangong_control_and_zero_budget():
    assert s(run(sangong_budget=10, sangong_reception=10), "sangong_control") == 6
    assert s(run(sangong_budget=10, sangong_reception=10.5), "sangong_control") == 1  # 105% → 6 − 5
    r = run(sangong_budget=0, sangong_reception=0.5)
    assert s(r, "sangong_control") == 0
    assert any(f.code == "zero_base" and f.where == "sangong_control" for f in r.findings)


def test_payment_progress_count_deduction():
    assert s(run(late_fund_count=0), "payment_progress") == 3
    assert s(run(late_fund_count=1), "payment_progress") == Decimal("2.5")
    assert s(run(late_fund_count=6), "payment_progress") == 0
    assert s(run(late_fund_count=9), "payment_progress") == 0


def test_count_deductions_floor_at_zero():
    assert s(run(compliance_violations=2), "fund_compliance") == 1
    assert s(run(compliance_violations=5), "fund_compliance") == 0
    assert s(run(asset_violations=3), "asset_safety") == 1


def test_checklists():
    assert s(run(rules_lawful="否"), "budget_rules") == 2
    assert s(run(disclose_content="否", info_true="否"), "disclosure") == Decimal("1.5")
    assert s(run(asset_rules_exist="否"), "asset_rules") == 1


def test_fund_balance_categories():
    r = run(income_carryover=10, balance_accumulated=0)
    assert s(r, "fund_balance") == 3
    assert s(run(income_carryover=10, balance_accumulated=10), "fund_balance") == 2
    assert s(run(income_carryover=10, balance_accumulated=10.01), "fund_balance") == 0


@pytest.mark.parametrize(("paid", "eligible", "expected"), [
    (50, 100, "3"), (49, 100, "2.8"), (40, 100, "1"), (0, 100, "0"), (100, 100, "3")])
def test_card_rate(paid, eligible, expected):
    assert s(run(card_paid=paid, card_eligible=eligible), "card_rate") == Decimal(expected)


def test_procurement_and_assets():
    assert s(run(procure_actual=95, procure_budget=100), "procurement_rate") == 2
    r = run(procure_actual=110, procure_budget=100)
    assert s(r, "procurement_rate") == 3 and "exceeds_base" in codes(r)
    assert s(run(assets_in_use=90, assets_leased=10), "asset_use_rate") == 2
    r = run(assets_in_use=None, assets_leased=None, assets_other=None)
    assert r.indicator("asset_use_rate").not_applicable


def test_typed_scores_capped_and_flagged():
    r = run(duty_xiaokang=9)
    assert s(r, "duty_xiaokang") == 5
    assert any(f.code == "invalid_input" and f.where == "duty_xiaokang" for f in r.findings)
    r = run(benefit_score=-1)
    assert s(r, "benefit") == 0 and r.has_errors
    r = run(benefit_score="十五")
    assert r.indicator("benefit").status == "invalid" and s(r, "benefit") == 0


def test_blank_money_counts_as_zero_but_scoring_fields_are_required():
    r = run(income_fiscal=None, exp_personnel=None, exp_public=None, assets_in_use=None)
    assert "missing_input" not in codes(r)
    r = run(card_paid=None)
    assert r.indicator("card_rate").status == "missing"
    assert [f.where for f in r.findings if f.code == "missing_input"] == ["card_paid"]


def test_invalid_counts_and_negative_money():
    r = run(late_fund_count=1.5)
    assert any(f.code == "invalid_input" and f.where == "late_fund_count" for f in r.findings)
    r = run(exp_personnel=-1)
    assert any(f.code == "invalid_input" and f.where == "exp_personnel" for f in r.findings)
    r = run(balance_current=-5, balance_accumulated=0, income_carryover=5)  # may be negative
    assert not any(f.where == "balance_current" and f.code == "invalid_input" for f in r.findings)


def test_balance_cross_checks():
    r = run(balance_accumulated=5)
    assert any(f.code == "balance_mismatch" and f.where == "balance_accumulated" for f in r.findings)
    r = run(income_carryover=5, income_fiscal=600, balance_accumulated=8.61, balance_current=3.61)
    assert "balance_mismatch" not in codes(r)
    r = run(income_carryover=5, income_fiscal=600, balance_accumulated=8.61, balance_current=3.63)
    assert any(f.where == "balance_current" for f in r.findings if f.code == "balance_mismatch")


def test_leased_assets_info():
    r = run(assets_leased=3)
    assert any(f.code == "leased_assets" and f.severity == "info" for f in r.findings)


def test_note_missing_and_explanations():
    r = run(late_fund_count=1)
    assert any(f.code == "note_missing" and f.where == "payment_progress" for f in r.findings)
    r = run(late_fund_count=1, note_payment_progress="一个专项因上级资金晚到未按时下达")
    assert "note_missing" not in codes(r)
    r = score({**seed_inputs(), "assets_leased": 3, "staff_quota": 39},
              explanations={"staff_exceeds_quota": "编制调整文件待批"})
    f = next(f for f in r.findings if f.code == "exceeds_base")
    assert f.explained and f.explanation == "编制调整文件待批"


def test_grades():
    assert run(benefit_score=5).grade == "优"  # 90
    assert run(benefit_score=4.99).grade == "良"
    assert run(benefit_score=0, duty_xinzengji=0, duty_other=0.99).grade == "中"  # 75.99 + ...
    r = run(benefit_score=0, duty_xinzengji=0, duty_xiaokang=0, duty_gov_report=0, duty_other=0, satisfaction_rate=0)
    assert r.total == Decimal("59") and r.grade == "差"


def _variant(**replace):
    text = DEFAULT_TEMPLATE.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new, 1)
    return parse_template(text)


def test_per_point_floor_and_ceil():
    floor_t = _variant(**{'step = 0.5\nper_point = "proportional"\nzero_denominator = "error"':
                          'step = 0.5\nper_point = "floor"\nzero_denominator = "error"'})
    ceil_t = _variant(**{'step = 0.5\nper_point = "proportional"\nzero_denominator = "error"':
                         'step = 0.5\nper_point = "ceil"\nzero_denominator = "error"'})
    inputs = {**seed_inputs(), "staff_actual": 31, "staff_quota": 30}  # 103.33%
    assert score(inputs, floor_t).indicator("staff_control").score == Decimal("3.5")  # 3 points
    assert score(inputs, ceil_t).indicator("staff_control").score == Decimal("3")  # 4 points
    inputs = {**seed_inputs(), "staff_actual": 103, "staff_quota": 100}  # exactly 3 points
    assert score(inputs, floor_t).indicator("staff_control").score == Decimal("3.5")
    assert score(inputs, ceil_t).indicator("staff_control").score == Decimal("3.5")


def test_basis_switches_are_template_parameters():
    actual_t = _variant(**{'basis = "budget"': 'basis = "actual"'})
    inputs = {**seed_inputs(), "sangong_reception": 11, "sangong_prior_actual": 10, "sangong_budget": 20,
              "sangong_prior_budget": 20}
    assert score(inputs).indicator("sangong_change").score == 5  # budget basis: 0%
    assert score(inputs, actual_t).indicator("sangong_change").score == 0  # actual: +10% → 5 − 5
    current_t = _variant(**{'basis = "accumulated"': 'basis = "current"'})
    inputs = {**seed_inputs(), "balance_accumulated": 8, "balance_current": 0, "income_carryover": 8}
    assert score(inputs).indicator("fund_balance").score == 2
    assert score(inputs, current_t).indicator("fund_balance").score == 3


def test_subtotals_add_up():
    r = run(staff_quota=39, late_fund_count=2)
    assert r.subtotals["input"] == Decimal("10")
    assert r.subtotals["budget_exec"] == Decimal("14")
    assert sum(r.subtotals[lv] for lv in ("input", "process", "output", "effect")) == r.total


@pytest.mark.parametrize(("indicator", "changes"), [
    ("procurement_rate", {"procure_budget": 0, "procure_actual": 0}),
    ("card_rate", {"card_eligible": 0, "card_paid": 0}),
    ("asset_use_rate", {"assets_in_use": 0, "assets_leased": 0, "assets_other": 0}),
    ("key_spend_rate", {"exp_project": 0, "key_spend": 0}),
])
def test_zero_denominators_not_applicable_full_marks_with_info(indicator, changes):
    r = run(**{**changes, "procure_budget": changes.get("procure_budget", 10),
               "procure_actual": changes.get("procure_actual", 10),
               "card_eligible": changes.get("card_eligible", 10), "card_paid": changes.get("card_paid", 10)})
    ind = r.indicator(indicator)
    assert ind.not_applicable and ind.score == ind.max
    assert [f.severity for f in r.findings if f.code == "not_applicable" and f.where == indicator] == ["info"]
    others = {"procurement_rate", "card_rate"} - {indicator}
    for other in others:
        assert not r.indicator(other).not_applicable
