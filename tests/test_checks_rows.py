"""The 审核 rows (workbook/checks.py): each kind's severity, code, label, the formulas the workbook holds and the
message the unit sees, written out by hand from rules.md §4–§5 for the seed return and small variations.

The formula texts are the workbook's contract (the verifier compares the unit's cells with them); the older
formula revisions (N() for blank-as-zero cells, no ROUND before TEXT) are pinned too, so returns issued before
a formula change keep verifying.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from workbook.checks import (
    NoteCheck,
    RequiredCheck,
    SpecCheck,
    ValidityCheck,
    ZeroCheck,
    build_checks,
    cached_message,
    guard,
    ref,
)
from workbook.engine import score_values
from workbook.formulas import score_formula
from workbook.template import CheckSpec, default_template, load_template
from workbook.values import Values

from .conftest import ROOT, seed_inputs

T = default_template()
REV2 = load_template(ROOT / "templates" / "zhengti-2021.2.toml")


def checks(t=T):
    return {c.id: c for c in build_checks(t)}


def message(check_id: str, changes: dict | None = None, t=T) -> str:
    v = Values(t, {**seed_inputs(), **(changes or {})})
    return cached_message(checks(t)[check_id], v, score_values(v, {}))


def test_zero_rows_take_severity_code_and_label_from_the_policy():
    c = checks()
    assert [(k, c[k].severity, c[k].code, c[k].label) for k in
            ("zero_staff_control", "zero_sangong_change", "zero_key_spend_rate")] == [
        ("zero_staff_control", "error", "invalid_input", "人员编制不为 0（财政供养人员控制率）"),
        ("zero_sangong_change", "warning", "zero_base", "上年三公经费预算数为 0 时本年三公经费预算数也应为 0（“三公经费”变动率）"),
        ("zero_key_spend_rate", "info", "not_applicable", "项目支出为 0 时重点支出安排率不适用")]
    # built afresh too (build_checks caches its rows per template)
    fresh = [ZeroCheck(T, i) for i in ("staff_control", "sangong_change", "key_spend_rate")]
    assert [(z.id, z.severity, z.code, z.label) for z in fresh] == [
        (k, c[k].severity, c[k].code, c[k].label) for k in ("zero_staff_control", "zero_sangong_change",
                                                             "zero_key_spend_rate")]
    assert isinstance(c["zero_staff_control"], ZeroCheck) and c["zero_staff_control"].fail_word() == "错误"
    assert c["zero_sangong_change"].fail_word() == "警告" and c["zero_key_spend_rate"].fail_word() == "提示"


def test_zero_row_messages():
    assert message("zero_staff_control") == "人员编制 50，实有人数 44"  # counts of people: no decimals
    assert message("zero_budget_adjust_rate") == "年初预算数 596.39，预算调整数 0.00"
    assert message("zero_staff_control", {"staff_quota": None}) == "相关数据未填"
    assert message("zero_asset_use_rate", {"assets_leased": 1.5}) == "固定资产合计 36.18，在用固定资产 34.68"


def test_counting_rows():
    assert message("required_inputs") == "必填数据已填齐"
    assert message("required_inputs", {"staff_quota": None, "budget_initial": None}) == \
        "有 2 项必填数据未填（评分表显示“未填”的指标）"
    assert message("valid_inputs") == "数据类型和取值范围正确"
    assert message("valid_inputs", {"staff_actual": 44.5}) == "有 1 项数据类型或取值范围不正确"  # people: whole numbers
    assert message("notes") == "扣分指标均已说明"
    # 55 people for 50 posts: 财政供养人员控制率 110 % loses points, and no reason is given
    assert message("notes", {"staff_actual": 55}) == "有 1 项扣分指标未在评分表填写扣分原因"
    assert message("notes", {"staff_actual": 55, "note_staff_control": "编制调整"}) == "扣分指标均已说明"
    # a blank quota: the indicator shows 未填 (no score), which is not an unexplained deduction
    assert message("notes", {"staff_quota": None}) == "扣分指标均已说明"


def test_counting_items_fail_only_when_their_condition_holds():
    v = Values(T, {**seed_inputs(), "staff_quota": None, "staff_actual": -3})
    report = score_values(v, {})
    assert RequiredCheck().item_failed(v, report, "staff_quota") and not RequiredCheck().item_failed(v, report, "year")
    assert ValidityCheck().item_failed(v, report, "staff_actual")
    assert not ValidityCheck().item_failed(v, report, "staff_quota")
    v = Values(T, {**seed_inputs(), "staff_actual": 55})
    report = score_values(v, {})
    note = NoteCheck()
    assert note.item_failed(v, report, "staff_control")
    assert [i for i in note.items(T) if note.item_failed(v, report, i)] == ["staff_control"]
    v = Values(T, {**seed_inputs(), "staff_actual": 50})  # exactly the quota: full marks
    assert not note.item_failed(v, score_values(v, {}), "staff_control")


def test_spec_row_messages():
    assert message("staff_exceeds_quota", {"staff_actual": 55}) == "实有人数 55，人员编制 50"
    assert message("balance_accumulated", {"balance_accumulated": 1.5}) == \
        "累计结余 1.50，收入合计 − 支出合计 0.00，相差 1.50 万元"
    assert message("leased_assets", {"assets_leased": 2.345}) == "出租固定资产 2.35 万元"
    assert message("text_staff_quota") == "报告文字中的数字由财政局读取时自动核对"


def test_blank_as_zero_references_by_revision():
    assert ref(T, "assets_leased") == "SUM(assets_leased)"  # revision 3: SUM() is 0 on a blank cell everywhere
    assert ref(REV2, "assets_leased") == "N(assets_leased)"  # revisions 1-2: N(), as issued then
    assert ref(T, "staff_quota") == "staff_quota" and ref(T, "income_total") == "income_total"


def test_spec_row_formulas_revision_3_and_2():
    c, c2 = checks(), checks(REV2)
    assert c["leased_assets"].status_formula(T) == '=IF(ROUND(SUM(assets_leased),2)>0,"提示","通过")'
    assert c["leased_assets"].message_formula(T) == '="出租固定资产 "&TEXT(ROUND(SUM(assets_leased),2),"0.00")&" 万元"'
    assert c2["leased_assets"].status_formula(REV2) == '=IF(ROUND(N(assets_leased),2)>0,"提示","通过")'
    assert c2["leased_assets"].message_formula(REV2) == '="出租固定资产 "&TEXT(N(assets_leased),"0.00")&" 万元"'
    assert c["staff_exceeds_quota"].status_formula(T) == (
        '=IF(OR(staff_actual="",staff_quota=""),"未填",IF(AND(ISNUMBER(staff_actual),ISNUMBER(staff_quota)),'
        'IF(ROUND(staff_actual,2)>ROUND(staff_quota,2),"警告","通过"),"未填"))')
    assert c["staff_exceeds_quota"].message_formula(T) == (
        '=IF(OR(staff_actual="",staff_quota=""),"相关数据未填",IF(AND(ISNUMBER(staff_actual),ISNUMBER(staff_quota)),'
        '"实有人数 "&TEXT(ROUND(staff_actual,0),"0")&"，人员编制 "&TEXT(ROUND(staff_quota,0),"0"),"相关数据未填"))')
    assert c["balance_accumulated"].status_formula(T) == (
        '=IF(ABS(ROUND(SUM(balance_accumulated)-(income_total-exp_total),2))>0.01,"警告","通过")')


def test_zero_row_formulas():
    c = checks()
    assert c["zero_staff_control"].status_formula(T) == (
        '=IF(OR(staff_actual="",staff_quota=""),"未填",IF(AND(ISNUMBER(staff_actual),ISNUMBER(staff_quota)),'
        'IF(staff_quota=0,"错误","通过"),"未填"))')
    assert c["zero_sangong_change"].status_formula(T) == (
        '=IF(OR(sangong_budget="",sangong_prior_budget=""),"未填",IF(AND(ISNUMBER(sangong_budget),'
        'ISNUMBER(sangong_prior_budget)),IF(AND(sangong_prior_budget=0,ROUND(sangong_budget,2)>0),"警告","通过"),"未填"))')
    assert c["zero_staff_control"].message_formula(T) == (
        '=IF(OR(staff_actual="",staff_quota=""),"相关数据未填",IF(AND(ISNUMBER(staff_actual),ISNUMBER(staff_quota)),'
        '"人员编制 "&TEXT(ROUND(staff_quota,0),"0")&"，实有人数 "&TEXT(ROUND(staff_actual,0),"0"),"相关数据未填"))')


def test_counting_row_formulas():
    c = checks()
    assert c["required_inputs"].status_formula(T) == '=IF(SUM(audit_n_required_inputs_1)>0,"错误","通过")'
    assert c["notes"].message_formula(T) == (
        '=IF(SUM(audit_n_notes_1,audit_n_notes_2)>0,"有 "&SUM(audit_n_notes_1,audit_n_notes_2)&" 项扣分指标未在评分表'
        '填写扣分原因","扣分指标均已说明")')
    assert NoteCheck().term(T, "staff_control") == (
        'IF(ISNUMBER(score_staff_control),IF(AND(score_staff_control<5,note_staff_control=""),1,0),0)')
    assert ValidityCheck().term(T, "rules_exist") == 'IF(OR(rules_exist="",rules_exist="是",rules_exist="否"),0,1)'
    assert ValidityCheck().term(T, "staff_quota") == (
        'IF(ISNUMBER(staff_quota),IF(OR(staff_quota<0,staff_quota<>INT(staff_quota)),1,0),IF(staff_quota="",0,1))')


def test_yes_no_inputs_are_guarded_by_their_two_answers():
    assert score_formula(T, T.indicator("budget_rules")) == (
        '=IF(OR(rules_exist="",rules_lawful="",rules_enforced=""),"未填",IF(AND(OR(rules_exist="是",rules_exist="否"),'
        'OR(rules_lawful="是",rules_lawful="否"),OR(rules_enforced="是",rules_enforced="否")),ROUND(MAX(0,MIN(3,'
        'IF(rules_exist="是",1,0)+IF(rules_lawful="是",1,0)+IF(rules_enforced="是",1,0))),2),"无效"))')
    assert guard(T, ["assets_leased"], "X") == "X"  # blank-as-zero only: nothing to guard


@pytest.mark.parametrize("tolerance, shown", [(None, "0.01"), (0.5, "0.5")])
def test_a_template_check_with_several_terms(tolerance, shown):
    params = {"left": ["income_fiscal", "income_fund"], "right": ["-exp_personnel", "exp_public"]}
    if tolerance is not None:
        params["tolerance"] = tolerance
    check = SpecCheck(CheckSpec("sums", "approx_equal", "warning", "balance_mismatch", "两个和相等", params))
    assert check.spec.id == "sums" and check.keys() == ["income_fiscal", "income_fund", "exp_personnel", "exp_public"]
    assert check.status_formula(T) == (
        f'=IF(ABS(ROUND(SUM(income_fiscal)+SUM(income_fund)-(-SUM(exp_personnel)+SUM(exp_public)),2))>{shown},'
        '"警告","通过")')
    v = Values(T, {**seed_inputs(), "income_fund": 0.3})
    result = check.evaluate(v)
    # left 596.39 + 0.30 = 596.69, right −486.52 + 109.87 = −376.65: 973.34 apart
    assert result.message == "公共财政拨款 + 政府基金拨款 596.69， − 人员支出 + 公用支出 -376.65，相差 973.34 万元"
    assert result.failed and result.status == "警告"
    near = SpecCheck(CheckSpec("near", "approx_equal", "warning", "balance_mismatch", "近似",
                               {"left": ["income_fund"], "right": ["income_nontax"], **(
                                   {"tolerance": tolerance} if tolerance is not None else {})}))
    gap = Values(T, {**seed_inputs(), "income_fund": 0.3, "income_nontax": 0.0})
    assert near.evaluate(gap).failed is (tolerance is None)  # 0.30 apart: beyond 0.01, within 0.5
    assert Decimal(shown) > 0


def test_not_greater_messages_show_money_with_two_decimals():
    assert message("key_spend_exceeds_project", {"key_spend": 1.5, "exp_project": 1}) == "重点项目支出 1.50，项目支出 1.00"


def test_counting_rows_inline_before_revision_2():
    rev1 = load_template(ROOT / "templates" / "zhengti-2021.1.toml")
    assert checks(REV2)["required_inputs"].status_formula(REV2) == '=IF(SUM(audit_n_required_inputs_1)>0,"错误","通过")'
    assert checks(rev1)["required_inputs"].status_formula(rev1).startswith('=IF(((unit_name="")+(budget_code="")+')
    assert NoteCheck().status_formula(rev1).startswith(
        '=IF((IF(ISNUMBER(score_staff_control),IF(AND(score_staff_control<5,note_staff_control=""),1,0),0)+')


class _Sized(RequiredCheck):
    """A counting row whose terms have chosen lengths (item "n" → a term of n characters)."""

    def items(self, t):
        return self.lengths

    def term(self, t, item):
        return None if item == "skip" else "1" * int(item)


@pytest.mark.parametrize("lengths, parts", [
    (["998", "999"], [["998", "999"]]),  # "=" + 998 + "+" + 999: 1,999 characters, one part
    (["999", "999"], [["999"], ["999"]]),  # 2,000 characters: the count keeps one in hand, a new part
    (["998", "skip", "999", "5"], [["998", "999"], ["5"]]),  # items that cannot fail get no term
])
def test_counting_parts_hold_fewer_than_part_limit_characters(lengths, parts):
    check = _Sized()
    check.lengths = lengths
    assert check.parts(T) == parts
    assert all(len(check.part_formula(T, p)) < 2000 for p in parts)
    assert check.part_formula(T, ["3", "2"]) == "=111+11"


def _result(check_id: str, changes: dict):
    return checks()[check_id].evaluate(Values(T, {**seed_inputs(), **changes}))


def test_spec_row_results_at_their_edges():
    skipped = _result("staff_exceeds_quota", {"staff_quota": None})
    assert (skipped.status, skipped.message, skipped.failed) == ("未填", "相关数据未填", False)
    assert (_result("staff_exceeds_quota", {"staff_actual": 50}).status, _result("staff_exceeds_quota", {
        "staff_actual": 51}).status) == ("通过", "警告")
    # a difference of exactly 0.01 is tolerated, 0.02 is not
    edge = _result("balance_accumulated", {"balance_accumulated": 0.01})
    assert (edge.status, edge.failed) == ("通过", False)
    assert edge.message == "累计结余 0.01，收入合计 − 支出合计 0.00，相差 0.01 万元"
    assert _result("balance_accumulated", {"balance_accumulated": 0.02}).failed
    # leased assets: anything above 0 (after rounding to cents) is noted
    assert [_result("leased_assets", {"assets_leased": x}).status for x in (0, 0.004, 0.5)] == ["通过", "通过", "提示"]


def test_report_text_numbers_against_the_table():
    c = checks()
    # the seed report says 编制39人 while the table says 50
    assert c["text_staff_quota"].mismatches(Values(T, seed_inputs())) == [("overview", "编制39人", Decimal("39"))]
    assert c["text_staff_quota"].mismatches(Values(T, {**seed_inputs(), "staff_quota": 39})) == []
    assert c["text_staff_quota"].mismatches(Values(T, {**seed_inputs(), "staff_quota": None})) == []  # nothing to compare
    said = {**seed_inputs(), "overview": "2021年专项支出为3万元。", "achievements": None}
    assert c["text_exp_project"].mismatches(Values(T, said)) == []  # 项目支出 left blank: not compared
    assert c["text_exp_project"].mismatches(Values(T, {**said, "exp_project": 0})) == [
        ("overview", "专项支出为3万元", Decimal("3"))]
    assert c["text_exp_project"].mismatches(Values(T, {**said, "exp_project": 3})) == []
