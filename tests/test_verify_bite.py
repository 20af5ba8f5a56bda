"""verify.py details that mutation testing found unchecked: shortened formulas in messages, extra names, a missing
sheet not hiding later tampering, the cached-value comparison at its edge, and the names of mismatched cells."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from workbook.read import read_return
from workbook.template import default_template
from workbook.verify import _cached_equal, _describe, brief, verify

from .conftest import seed_inputs
from .helpers import SEED_UNIT, factory, unit_values


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    p = tmp_path_factory.mktemp("bite") / "seed.xlsx"
    factory().write(p, SEED_UNIT, unit_values(seed_inputs()))
    return read_return(p)


def _fresh(ret):
    return replace(ret, names=dict(ret.names), sheets=list(ret.sheets), cached=dict(ret.cached),
                   formulas=dict(ret.formulas), unlocked=set(ret.unlocked), meta=dict(ret.meta), inputs=dict(ret.inputs))


def test_brief_keeps_80_characters():
    assert brief("x" * 80) == "x" * 80
    assert brief("x" * 81) == "x" * 79 + "…"  # 80 characters with the ellipsis
    assert brief("abcdef", limit=4) == "abc…" and brief("abcd", limit=4) == "abcd"


def test_extra_name_is_an_error_naming_it(seed):
    ret = _fresh(seed)
    ret.names["我的名称"] = "'封面'!$A$1"
    found = [f for f in verify(ret).findings if f.where == "我的名称"]
    assert [(f.severity, f.code, f.message) for f in found] == [("error", "template_modified", "多出了名称 我的名称")]


def test_a_missing_sheet_does_not_hide_tampering_on_later_sheets(seed):
    ret = _fresh(seed)
    ret.sheets = [s for s in ret.sheets if s[0] != "封面"]  # the first sheet with formulas
    sheet, ref = ret.names["total_score"].replace("$", "").split("!")
    sheet = sheet.strip("'")
    ret.formulas[(sheet, ref)] = "100"
    codes = {(f.code, f.where) for f in verify(ret).findings}
    assert ("template_modified", "封面") in codes and ("formula_tampered", f"{sheet}!{ref}") in codes


def test_cached_number_comparison():
    assert _cached_equal(1.004, Decimal("1")) and not _cached_equal(1.005, Decimal("1"))  # under half a cent
    assert not _cached_equal(True, Decimal("1")) and not _cached_equal("1", Decimal("1"))  # not a number
    assert _cached_equal(1, Decimal("1")) and _cached_equal("优", "优") and not _cached_equal("良", "优")


def test_mismatched_cells_are_named_in_chinese():
    t = default_template()
    assert _describe(t, "score_staff_control") == "“财政供养人员控制率”得分"
    assert _describe(t, "subtotal_input") == "“投入”小计"  # a level
    assert _describe(t, "subtotal_budget_config") == "“预算配置”小计"  # a group
    assert _describe(t, "total_score") == "总分" and _describe(t, "grade") == "评价等次"
    assert _describe(t, "income_total") == "“收入合计”"


def test_identity_blank_record_skips_only_that_field(seed):
    ret = _fresh(seed)
    ret.meta["unit_name"] = ""  # not recorded: not compared, the next fields still are
    ret.inputs["budget_code"] = "999999"
    ret.inputs["parent_dept"] = None  # cleared
    found = {f.where: f.message for f in verify(ret).findings if f.code == "template_modified"}
    assert found["budget_code"] == "预算编码被修改：下发时为“200009”，文件中为“999999”"
    assert found["parent_dept"] == f"主管部门被修改：下发时为“{SEED_UNIT.parent_dept}”，文件中为“”"
    assert "unit_name" not in found


def test_unknown_template_says_which_and_keeps_the_return():
    from workbook.read import Return

    ret = Return("u.xlsx", "0" * 64, 10)
    ret.template_id, ret.template_version = "xiangmu-9", "9.9"
    v = verify(ret)
    assert v.ret is ret and v.report is None
    assert [f.message for f in v.findings] == ["不是本系统能识别的自评表：模板 xiangmu-9 版本 9.9"]
    assert [f.message for f in verify(Return("u.xlsx", "0" * 64, 10)).findings] == [
        "不是本系统能识别的自评表：没有 jixiao 模板标识"]


def test_template_hash_message(seed):
    ret = _fresh(seed)
    ret.template_hash = "0" * 64
    assert [f.message for f in verify(ret).findings if f.where == "template_hash"] == [
        "工作簿记录的模板内容与本机模板不一致（模板改过但版本号未变，请用对应版本的模板核验）"]


def test_sheet_local_names(seed):
    ret = _fresh(seed)
    ret.local_names = [("staff_quota", "封面", "$A$1"), ("Print_Titles", "审核", "$1:$2"), ("x", "封面", "$B$2")]
    found = {f.where: f.message for f in verify(ret).findings if f.code == "template_modified"}
    assert found["staff_quota"] == "工作表“封面”内定义了局部名称 staff_quota（指向 $A$1），遮蔽了同名的模板名称"
    assert found["x"] == "工作表“封面”内定义了局部名称 x（指向 $B$2），模板中没有"
    assert "Print_Titles" not in found  # Gnumeric's print titles: the program's own


def test_an_unusable_input_is_reported_once_at_its_cell(seed):
    ret = _fresh(seed)
    ret.inputs["staff_quota"] = "五十"
    ret.input_problems = {**ret.input_problems, "staff_quota": "人员编制（封面!C9）不是数字"}
    findings = verify(ret).findings
    found = [f for f in findings if f.code == "invalid_input"]
    assert [(f.severity, f.where, f.message) for f in found] == [
        ("error", ret.input_cells.get("staff_quota", "staff_quota"), "人员编制（封面!C9）不是数字")]
    assert not [f for f in findings if f.code == "missing_input"]  # a wrong value is not a blank one


def test_an_unusable_input_without_a_known_cell_is_placed_at_its_key(seed):
    ret = _fresh(seed)
    ret.inputs["staff_quota"] = "五十"
    ret.input_problems = {**ret.input_problems, "staff_quota": "人员编制不是数字"}
    ret.input_cells = {}
    assert [f.where for f in verify(ret).findings if f.code == "invalid_input"] == ["staff_quota"]


def test_formulas_without_results_are_one_warning_and_not_compared(seed):
    ret = _fresh(seed)
    ret.uncached = {"total_score", "grade"}
    ret.cached["total_score"] = 1  # a stale value beside a formula without a result: not compared
    found = verify(ret).findings
    assert [(f.severity, f.code, f.where, f.message) for f in found if f.code == "not_recalculated"] == [
        ("warning", "not_recalculated", "workbook",
         "2 个公式单元格没有计算结果（文件未在电子表格程序中打开保存过），以复算结果为准")]
    assert not [f for f in found if f.code == "score_mismatch"]
