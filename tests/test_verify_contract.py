"""The verify/read JSON contract and the place and severity of every integrity finding (mutation survivors)."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from workbook.read import Return, read_return
from workbook.verify import verify

from .conftest import seed_inputs
from .helpers import SEED_UNIT, factory, unit_values

KEYS = {"file", "sha256", "template", "return_id", "unit", "inputs", "notes", "explanations", "tables", "indicators",
        "subtotals", "computed", "total", "cached_total", "grade", "cached_grade", "errors", "warnings", "findings"}


@pytest.fixture(scope="module")
def seed_path(tmp_path_factory):
    p = tmp_path_factory.mktemp("contract") / "seed.xlsx"
    factory().write(p, SEED_UNIT, unit_values(seed_inputs()))
    return p


def _fresh(ret):
    return replace(ret, names=dict(ret.names), sheets=list(ret.sheets), cached=dict(ret.cached),
                   formulas=dict(ret.formulas), unlocked=set(ret.unlocked), meta=dict(ret.meta),
                   inputs=dict(ret.inputs))


def test_json_contract_of_an_accepted_return(seed_path):
    ret = read_return(seed_path)
    out = verify(ret).to_dict()
    assert set(out) == KEYS
    assert out["file"] == str(seed_path)
    assert out["sha256"] == hashlib.sha256(seed_path.read_bytes()).hexdigest()
    assert out["template"] == {"id": ret.template_id, "version": ret.template_version} and ret.template_id
    assert out["unit"]["budget_code"] == "200009" and out["unit"]["unit_name"] == SEED_UNIT.unit_name
    assert out["total"] == 100 and out["cached_total"] == 100 and out["grade"] == "优" and out["cached_grade"] == "优"
    assert out["errors"] == 0 and out["warnings"] == 1  # the prose's 编制39人 against 50
    assert [f["code"] for f in out["findings"] if f["severity"] != "info"] == ["text_mismatch"]
    assert len(out["indicators"]) == 23
    for ind in out["indicators"]:
        assert ind["cached_score"] == ind["score"] == ind["max"], ind
    assert out["subtotals"]["input"] == 15 and out["subtotals"]["process"] == 40
    assert out["computed"]["exp_total"] == pytest.approx(float(sum(
        seed_inputs()[k] or 0 for k in ("exp_personnel", "exp_public", "exp_project"))))


def test_json_contract_of_a_rejected_file(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_text("not a workbook", encoding="utf-8")
    out = verify(read_return(p)).to_dict()
    assert set(out) == KEYS - {"computed"}
    assert out["template"] is None and out["indicators"] == [] and out["total"] is None and out["grade"] is None
    assert out["errors"] == 1 and out["warnings"] == 0
    assert [(f["code"], f["severity"], f["where"]) for f in out["findings"]] == [("file_rejected", "error", str(p))]


def test_unknown_template_names_the_file():
    v = verify(Return("u.xlsx", "0" * 64, 10))
    assert [(f.code, f.severity, f.where) for f in v.findings] == [("template_unknown", "error", "u.xlsx")]
    assert "没有 jixiao 模板标识" in v.findings[0].message and v.report is None


def test_every_integrity_finding_is_an_error_at_its_place(seed_path):
    base = read_return(seed_path)
    sheet, ref = base.names["total_score"].replace("$", "").split("!")
    sheet = sheet.strip("'")
    input_sheet, input_ref = next(iter(sorted(base.unlocked)))
    cases = []

    r = _fresh(base)
    r.sheets.append(("宏表", "visible"))
    cases.append((r, "template_modified", "宏表", "多出了工作表"))
    r = _fresh(base)
    r.sheets = [s for s in r.sheets if s[0] != "审核"]
    cases.append((r, "template_modified", "审核", "缺少工作表"))
    r = _fresh(base)
    del r.names["staff_quota"]
    cases.append((r, "template_modified", "staff_quota", "缺少名称"))
    r = _fresh(base)
    r.names["staff_quota"] = f"{input_sheet}!$Z$99"
    cases.append((r, "template_modified", "staff_quota", "指向"))
    r = _fresh(base)
    del r.formulas[(sheet, ref)]
    cases.append((r, "formula_tampered", f"{sheet}!{ref}", "被删除或替换为常量"))
    r = _fresh(base)
    r.formulas[(sheet, ref)] = "100"
    cases.append((r, "formula_tampered", f"{sheet}!{ref}", "公式被修改"))
    r = _fresh(base)
    r.formulas[(sheet, "Z99")] = "1+1"
    cases.append((r, "template_modified", f"{sheet}!Z99", "原本不是公式"))
    r = _fresh(base)
    r.unlocked.add((sheet, "Z98"))
    cases.append((r, "template_modified", f"{sheet}!Z98", "被解除锁定"))
    for ret, code, where, words in cases:
        found = [f for f in verify(ret).findings if f.code == code and f.where == where]
        assert len(found) == 1, (code, where, [(f.code, f.where) for f in verify(ret).findings])
        assert found[0].severity == "error" and words in found[0].message
    assert (input_sheet, input_ref) in base.unlocked  # an input cell's own lock state is not a finding
    assert not [f for f in verify(_fresh(base)).findings if f.severity == "error"]


@pytest.mark.parametrize("recorded", [None, "", "-"])
def test_identity_not_recorded_is_not_compared(seed_path, recorded):
    r = _fresh(read_return(seed_path))
    r.meta["parent_dept"] = recorded
    r.inputs["parent_dept"] = "别的部门"
    assert not [f for f in verify(r).findings if f.where == "parent_dept"]


def test_changed_identity_is_an_error_naming_both_values(seed_path):
    r = _fresh(read_return(seed_path))
    r.inputs["budget_code"] = "999999"
    found = [f for f in verify(r).findings if f.where == "budget_code"]
    assert [(f.code, f.severity) for f in found] == [("template_modified", "error")]
    assert "200009" in found[0].message and "999999" in found[0].message and "预算编码" in found[0].message


def test_score_mismatch_names_what_differs(seed_path):
    r = _fresh(read_return(seed_path))
    r.cached["score_staff_control"] = 3
    r.cached["grade"] = "良"
    found = {f.where: f for f in verify(r).findings if f.code == "score_mismatch"}
    assert set(found) == {"score_staff_control", "grade"}
    assert found["score_staff_control"].message == "“财政供养人员控制率”得分：文件中为 3，复算为 5"
    assert found["grade"].message == "评价等次：文件中为 “良”，复算为 “优”"
    assert all(f.severity == "error" for f in found.values())
