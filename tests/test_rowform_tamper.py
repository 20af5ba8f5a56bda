"""附件3-1 returns edited the way a determined unit (or a broken tool) can: hidden sheet, edited 审核 formula,
a forged 审核 result, a locked cell unlocked and edited, a formula typed into an input, shared-string tricks,
an added sheet, hostile packages, and resubmission (two saves of one return, identity moved to another
project).  Uses the 附件3-2 builders (tests/hostile.py, tests/xmledit.py, tests/forge.py)."""

from __future__ import annotations

import re

import pytest

from workbook.form.layout import AUDIT
from workbook.read import read_return
from workbook.verify import verify

from . import hostile
from . import xmledit as x
from .forge import set_props, set_saved
from .test_rowform_workbook import CASES, UNIT, T, factory

SHEET = T.title


def v_of(tmp_path, data: bytes, name: str = "x.xlsx"):
    p = tmp_path / name
    p.write_bytes(data)
    return verify(read_return(p))


def codes(v) -> set[str]:
    return {f.code for f in v.findings}


@pytest.fixture(scope="module")
def clean() -> bytes:
    return factory().build(UNIT, CASES["partial"])


def test_the_clean_return_has_no_integrity_finding(tmp_path, clean):
    v = v_of(tmp_path, clean)
    assert codes(v) <= {"note_missing"}, v.findings
    assert v.report.audit["row_reasons"] == "警告" and v.report.audit["complete"] == "通过"


def test_a_hidden_sheet_is_template_modified(tmp_path, clean):
    v = v_of(tmp_path, x.set_sheet_state(clean, AUDIT, "hidden"))
    assert any(f.code == "template_modified" and f.where == AUDIT for f in v.findings), v.findings


def test_an_edited_audit_formula_is_tampered(tmp_path, clean):
    sheet, ref = x.where(clean, "audit_row_reasons")
    v = v_of(tmp_path, x.set_cell(clean, sheet, ref, '<f>"通过"</f><v>通过</v>', ' t="str"'))
    assert any(f.code == "formula_tampered" and f.where == f"{AUDIT}!{ref}" for f in v.findings), v.findings
    # the shown 通过 is compared with the recomputed 警告 too
    assert any(f.code == "score_mismatch" and f.where == f"{AUDIT}!{ref}" for f in v.findings)


def test_a_forged_audit_result_is_a_mismatch(tmp_path, clean):
    """The formula kept, its cached result changed to 通过: what a printout would show."""
    sheet, ref = x.where(clean, "audit_row_reasons")
    xml = x.read_part(clean, x.part_of(clean, sheet)).decode()
    formula = re.search(rf'<c r="{ref}"[^>]*>(<f>.*?</f>)', xml, re.S).group(1)
    v = v_of(tmp_path, x.set_cell(clean, sheet, ref, f"{formula}<v>通过</v>", ' t="str"'))
    assert [f.where for f in v.findings if f.code == "score_mismatch"] == [f"{AUDIT}!{ref}"], v.findings
    assert "formula_tampered" not in codes(v)


def test_a_locked_label_unlocked_and_edited(tmp_path, clean):
    """A template label changed (protection removed first): the constant is compared with the plan."""
    v = v_of(tmp_path, x.set_cell(clean, SHEET, "A3", "<is><t>项目代码</t></is>", ' t="inlineStr"'))
    assert any(f.code == "template_modified" and "A3" in f.where for f in v.findings), v.findings


def test_a_formula_typed_into_an_input(tmp_path, clean):
    v = v_of(tmp_path, x.set_named(clean, "ind_output_1_actual", "<f>200</f><v>200</v>"))
    assert any(f.code == "invalid_input" and "公式" in f.message for f in v.findings), v.findings


def test_a_constant_over_a_score_formula(tmp_path, clean):
    v = v_of(tmp_path, x.set_named(clean, "score_ind_output_1", "<v>30</v>"))
    assert "formula_tampered" in codes(v)


def test_an_added_sheet_and_a_shadowing_local_name(tmp_path, clean):
    v = v_of(tmp_path, hostile.add_sheet(clean))
    assert any("多出了工作表" in f.message for f in v.findings)
    sheet, ref = x.where(clean, "funds_current_budget")
    shadow = x.add_defined_name(clean, f'<definedName name="total_score" localSheetId="1">\'{SHEET}\'!$A$1'
                                       "</definedName>")
    v = v_of(tmp_path, shadow, "y.xlsx")
    assert any(f.code == "template_modified" and f.where == "total_score" for f in v.findings), v.findings


def test_shared_string_input_reads_as_the_text(tmp_path, clean):
    """A text input stored as a shared string (as Excel saves) is read as the text; a foreign <si> element
    mixed into the table is an anomaly, never a silent shift of every later string."""
    sst = x.read_part(clean, "xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in _names(clean) else None
    data = clean
    if sst is None:
        data = hostile.rezip(clean, add={"xl/sharedStrings.xml": b'<?xml version="1.0" encoding="UTF-8"?>'
                                         b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                         b"</sst>"})
        pytest.skip("the generated workbook has no shared-string table")
    count = len(re.findall(r"<si>", sst))
    data = x.edit_part(data, "xl/sharedStrings.xml", lambda s: s.replace("</sst>", "<si><t>培训人次（共享）</t></si></sst>"))
    data = x.set_named(data, "ind_output_1_name", f"<v>{count}</v>", ' t="s"')
    v = v_of(tmp_path, data)
    assert v.ret.inputs["ind_output_1_name"] == "培训人次（共享）"
    assert not (codes(v) & {"template_modified", "formula_tampered", "score_mismatch"}), v.findings
    # an ignorable foreign <si> before it (mc:Ignorable): Excel skips it, so must the reader
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    foreign = x.edit_part(data, "xl/sharedStrings.xml", lambda s: re.sub(
        r"<sst ", f'<sst xmlns:mc="{mc}" xmlns:q="urn:example:q" mc:Ignorable="q" ', s, count=1).replace(
        "<si>", "<q:si><q:t>否</q:t></q:si><si>", 1))
    v = v_of(tmp_path, foreign, "m.xlsx")
    assert v.ret.inputs["ind_output_1_name"] == "培训人次（共享）", v.ret.inputs["ind_output_1_name"]


def _names(data: bytes) -> set[str]:
    import io
    import zipfile

    return set(zipfile.ZipFile(io.BytesIO(data)).namelist())


@pytest.mark.parametrize("build", [hostile.truncated, hostile.with_macro, hostile.entity_attack],
                         ids=["truncated", "macro", "entities"])
def test_hostile_packages_are_refused_or_flagged(tmp_path, clean, build):
    v = v_of(tmp_path, build(clean))
    assert v.rejected or v.has_errors, v.findings


def test_an_unrecalculated_return_is_scored_by_the_engine(tmp_path, clean):
    v = v_of(tmp_path, hostile.strip_cached_values(clean))
    assert "not_recalculated" in codes(v) and "score_mismatch" not in codes(v)
    assert float(v.report.total) == 89.5


def test_resubmission_keeps_identity_and_a_moved_project_is_caught(tmp_path):
    """Two saves of one return (the unit corrected a row) verify alike; a return relabelled to another
    project (its cells and document properties) is caught against the issued identity (metadata sheet)."""
    first = factory().build(UNIT, CASES["partial"], return_id="r-1")
    second = factory().build(UNIT, {**CASES["partial"], "ind_output_1_reason": "场地原因",
                                    "ind_benefit_1_reason": "就业形势"}, return_id="r-1")
    a, b = v_of(tmp_path, set_saved(first, "2022-03-01T08:00:00Z"), "a.xlsx"), \
        v_of(tmp_path, set_saved(second, "2022-03-05T08:00:00Z"), "b.xlsx")
    assert a.ret.return_id == b.ret.return_id == "r-1" and a.ret.saved_at < b.ret.saved_at
    assert a.report.audit["row_reasons"] == "警告" and b.report.audit["row_reasons"] == "通过"
    moved = set_props(x.set_named(second, "project_name", "<is><t>别的项目</t></is>", ' t="inlineStr"'),
                      jixiao_project_name="别的项目")
    v = v_of(tmp_path, moved, "c.xlsx")
    assert any(f.code == "template_modified" and f.where == "project_name" for f in v.findings), v.findings
