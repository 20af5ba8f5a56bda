"""Issue #15: verify reads exactly what a spreadsheet shows and checks every cell that is the template's.

Each case is a generated return edited at the zip/XML level; all of them go through the real entry
point (`python -m cli.main verify DIR --json`) in one subprocess, then each case is checked on its own.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from workbook.engine import score
from workbook.form.layout import AUDIT, META, SCORE, build_plan
from workbook.read import read_return
from workbook.template import default_template
from workbook.xlsx import cell_ref

from . import xmledit as x
from .conftest import ROOT, seed_inputs
from .helpers import SEED_UNIT, factory, unit_values

MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
CT = "application/vnd.openxmlformats-officedocument"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WB_RELS = "xl/_rels/workbook.xml.rels"


def seed() -> bytes:
    return factory().build(SEED_UNIT, unit_values(seed_inputs()))


def plan_label(sheet: str, style: str, index: int = 0) -> tuple[str, object]:
    cells = [c for c in build_plan(default_template()).sheet(sheet).cells if c.kind == "label" and c.style == style]
    c = cells[index]
    return cell_ref(c.row, c.col), c.value


def formula_in_input(data: bytes) -> bytes:
    return x.set_named(data, "staff_quota", "<f>39</f><v>50</v>")


def dde_in_input(data: bytes) -> bytes:
    return x.set_named(data, "staff_quota", "<f>cmd|' /C calc'!A0</f><v>50</v>")


def volatile_in_input(data: bytes) -> bytes:
    return x.set_named(data, "staff_quota", "<f>IF(TODAY()&lt;DATE(2022,6,1),50,39)</f><v>50</v>")


def external_ref_in_input(data: bytes) -> bytes:
    return x.set_named(data, "staff_quota", "<f>[1]Sheet1!A1</f><v>50</v>")


def number(text: str) -> Callable[[bytes], bytes]:
    return lambda data: x.set_named(data, "staff_quota", f"<v>{text}</v>")


def shared_string_shift(data: bytes) -> bytes:
    """是 as a shared string, and a foreign (mc:Ignorable) <si> before it: Excel reads 是."""
    sst = x.read_part(data, "xl/sharedStrings.xml").decode()
    items = re.findall(r"<si>.*?</si>", sst, re.S)
    index = next(i for i, s in enumerate(items) if s == "<si><t>是</t></si>")
    data = x.set_named(data, "rules_exist", f"<v>{index}</v>", ' t="s"')

    def fn(s: str) -> str:
        s = re.sub(r"<sst ", f'<sst xmlns:mc="{MC}" xmlns:q="urn:example:foreign" mc:Ignorable="q" ', s, count=1)
        return re.sub(r"(<sst [^>]*>)", r"\1<q:si><q:t>否</q:t></q:si>", s, count=1)
    return x.edit_part(data, "xl/sharedStrings.xml", fn)


def phonetic_inline(data: bytes) -> bytes:
    return x.set_named(data, "contact_name", "<is><r><t>李</t></r><r><t>紫薇</t></r>"
                       '<rPh sb="0" eb="1"><t>LI</t></rPh></is>', ' t="inlineStr"')


def duplicate_name(data: bytes) -> bytes:
    """A second staff_quota written first: LibreOffice takes the first, a last-wins reader the real one."""
    return x.edit_part(data, "xl/workbook.xml", lambda s: s.replace(
        "<definedNames>", "<definedNames><definedName name=\"staff_quota\">'一、基本概况'!$B$6</definedName>", 1))


def local_shadow(data: bytes) -> bytes:
    return x.add_defined_name(data, "<definedName name=\"staff_quota\" localSheetId=\"2\">'一、基本概况'!$B$6</definedName>")


def duplicate_cell(data: bytes) -> bytes:
    sheet, ref = x.where(data, "staff_quota")
    style = x.cell_style(data, sheet, ref)
    return x.set_cell_xml(data, sheet, ref, f'<c r="{ref}"{style}><v>50</v></c><c r="{ref}"{style}><v>39</v></c>')


def value_before_formula(data: bytes) -> bytes:
    sheet, ref = x.where(data, "total_score")
    ret = read_return("x.xlsx", data)
    formula = ret.formulas[(sheet, ref)][1:].replace("<", "&lt;")
    return x.set_cell(data, sheet, ref, f"<v>100</v><f>{formula}</f>")


def external_link_odd_path(data: bytes) -> bytes:
    payload = b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    return x.add_part(data, "xl/links/ext1.xml", payload, f"{CT}.spreadsheetml.externalLink+xml", WB_RELS,
                      f"{RELS}/externalLink", "links/ext1.xml")


def external_link_by_relationship_only(data: bytes) -> bytes:
    payload = b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    return x.add_part(data, "xl/links/ext1.xml", payload, "application/xml", WB_RELS,
                      f"{RELS}/externalLink", "links/ext1.xml")


def macro_odd_path(data: bytes) -> bytes:
    return x.add_part(data, "xl/code/module.bin", b"\x00" * 64, "application/vnd.ms-office.vbaProject", WB_RELS,
                      "http://schemas.microsoft.com/office/2006/relationships/vbaProject", "code/module.bin")


def macro_relationship_only(data: bytes) -> bytes:
    return x.add_part(data, "xl/code/module.dat", b"\x00" * 64, "application/octet-stream", WB_RELS,
                      "http://schemas.microsoft.com/office/2006/relationships/vbaProject", "code/module.dat")


def ole_object(data: bytes) -> bytes:
    return x.add_part(data, "xl/misc/thing.dat", b"\x00" * 64, f"{CT}.oleObject", WB_RELS,
                      f"{RELS}/oleObject", "misc/thing.dat")


def criteria_rewritten(data: bytes) -> bytes:
    ref, _ = plan_label(SCORE, "criteria")
    return x.set_cell(data, SCORE, ref, "<is><t>有就行</t></is>", ' t="inlineStr"')


def points_and_total(data: bytes) -> bytes:
    ref, _ = plan_label(SCORE, "points")
    total_ref, _ = plan_label(SCORE, "points_bold")
    data = x.set_cell(data, SCORE, ref, "<v>10</v>")
    return x.set_cell(data, SCORE, total_ref, "<v>105</v>")


def total_shows_100(data: bytes) -> bytes:
    data = data_with_total(77.5)
    sheet, ref = x.where(data, "total_score")
    return x.add_number_format(data, sheet, ref, '"100"')


def data_with_total(_: float) -> bytes:
    return factory().build(SEED_UNIT, unit_values({**seed_inputs(), "staff_quota": 39, "late_fund_count": 7,
                                                   "card_paid": 1, "card_eligible": 100}))


def audit_warning_to_pass(_: bytes) -> bytes:
    inputs = {**seed_inputs(), "staff_actual": 60}
    data = factory().build(SEED_UNIT, unit_values(inputs))
    ret = read_return("x.xlsx", data)
    name = "audit_" + next(k for k, v in score(inputs).audit.items() if v == "警告")
    sheet, ref = x.where(data, name)
    formula = ret.formulas[(sheet, ref)][1:].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return x.set_cell(data, sheet, ref, f"<f>{formula}</f><v>通过</v>", ' t="str"')


def audit_message_rewritten(data: bytes) -> bytes:
    """The 说明 column of a 审核 row shows other numbers than the recomputed check (a printout shows it)."""
    plan = build_plan(default_template())
    cell = next(c for c in plan.sheet(AUDIT).cells if c.kind == "formula" and c.col == 3 and c.row >= 5)
    ref = cell_ref(cell.row, cell.col)
    ret = read_return("x.xlsx", data)
    formula = ret.formulas[(AUDIT, ref)][1:].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return x.set_cell(data, AUDIT, ref, f"<f>{formula}</f><v>人员编制 50 人，实有 44 人，未超编</v>", ' t="str"')


def array_and_calc_chain(data: bytes) -> bytes:
    sheet, ref = x.where(data, "total_score")
    ret = read_return("x.xlsx", data)
    formula = ret.formulas[(sheet, ref)][1:].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    data = x.set_cell(data, sheet, ref, f'<f t="array" ref="{ref}">{formula}</f><v>100</v>')
    chain = (b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<c r="F27" i="9"/></calcChain>')
    return x.add_part(data, "xl/calcChain.xml", chain, f"{CT}.spreadsheetml.calcChain+xml", WB_RELS,
                      f"{RELS}/calcChain", "calcChain.xml")


def utf16_sheet(data: bytes) -> bytes:
    """A worksheet stored as UTF-16 (legal XML): read as every spreadsheet reads it."""
    part = x.part_of(data, SCORE)

    def edit(n: str, p: bytes) -> bytes:
        if n != part:
            return p
        text = p.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
        return b"\xff\xfe" + text.encode("utf-16-le")
    return x.rezip(data, edit=edit)


def openpyxl_resave(data: bytes) -> bytes:
    """openpyxl load → save drops every cached value: not_recalculated only, never tampering."""
    import io

    import openpyxl

    out = io.BytesIO()
    openpyxl.load_workbook(io.BytesIO(data)).save(out)
    return out.getvalue()


def only_not_recalculated(report: dict) -> None:
    clean(report)
    assert "not_recalculated" in {f["code"] for f in report["findings"]}
    assert {f["code"] for f in report["findings"] if f["severity"] == "warning"} <= {"not_recalculated", "text_mismatch"}


def error_at(cell: str, code: str = "invalid_input") -> Callable[[dict], None]:
    def check(report: dict) -> None:
        hits = [f for f in report["findings"] if f["code"] == code and f["severity"] == "error"]
        assert any(cell in f["where"] or cell in f["message"] for f in hits), report["findings"][:5]
    return check


def rejected(report: dict) -> None:
    assert [f["code"] for f in report["findings"]] == ["file_rejected"], report["findings"][:3]


def error(code: str) -> Callable[[dict], None]:
    def check(report: dict) -> None:
        assert code in {f["code"] for f in report["findings"] if f["severity"] == "error"}, report["findings"][:5]
    return check


def clean(report: dict) -> None:
    assert report["errors"] == 0, [f for f in report["findings"] if f["severity"] == "error"][:5]


def clean_reading(key: str, value: object) -> Callable[[dict], None]:
    def check(report: dict) -> None:
        clean(report)
        assert report["inputs"][key] == value
    return check


def only_warning(code: str) -> Callable[[dict], None]:
    def check(report: dict) -> None:
        clean(report)
        assert code in {f["code"] for f in report["findings"] if f["severity"] == "warning"}, report["findings"][:5]
    return check


B5 = "一、基本概况!B5"
CASES: dict[str, tuple[Callable[[bytes], bytes], Callable[[dict], None]]] = {
    "formula_in_input": (formula_in_input, error_at(B5)),
    "volatile_formula_in_input": (volatile_in_input, error_at(B5)),
    "dde_formula": (dde_in_input, rejected),
    "external_reference_formula": (external_ref_in_input, rejected),
    "fullwidth_digits": (number("５０"), error_at(B5)),
    "python_underscore": (number("1_000"), error_at(B5)),
    "nan": (number("nan"), error_at(B5)),
    "inf": (number("inf"), error_at(B5)),
    "beyond_excel_range": (number("1E+400"), error_at(B5)),
    "huge_but_valid_number": (number("1E+26"), error_at(B5)),
    "beyond_validation_staff": (number("3000000000"), error_at(B5)),
    "beyond_validation_money": (lambda d: x.set_named(d, "income_fiscal", "<v>2E+15</v>"), error_at("二、收支情况!D5")),
    "date_past_2100": (lambda d: x.set_named(d, "report_date", "<v>80000</v>"), error_at("封面!B9")),
    "shared_string_foreign_si": (shared_string_shift, clean_reading("rules_exist", "是")),
    "inline_string_phonetic": (phonetic_inline, clean_reading("contact_name", "李紫薇")),
    "duplicate_defined_name": (duplicate_name, error("template_modified")),
    "local_name_shadows_input": (local_shadow, error("template_modified")),
    "two_cells_one_ref": (duplicate_cell, error_at(B5, "template_modified")),
    "value_before_formula": (value_before_formula, error_at("F27", "template_modified")),
    "external_link_odd_path": (external_link_odd_path, rejected),
    "external_link_relationship_only": (external_link_by_relationship_only, rejected),
    "macro_odd_path": (macro_odd_path, rejected),
    "macro_relationship_only": (macro_relationship_only, rejected),
    "ole_object": (ole_object, rejected),
    "criteria_rewritten": (criteria_rewritten, error_at(f"{SCORE}!D4", "template_modified")),
    "points_and_total_changed": (points_and_total, error_at(f"{SCORE}!E4", "template_modified")),
    "total_number_format": (total_shows_100, error_at(f"{SCORE}!F27", "template_modified")),
    "audit_warning_shown_as_pass": (audit_warning_to_pass, error_at(AUDIT, "score_mismatch")),
    "audit_message_rewritten": (audit_message_rewritten, error_at(AUDIT, "score_mismatch")),
    "metadata_hidden_not_very_hidden": (lambda d: x.set_sheet_state(d, META, "hidden"), only_warning("metadata_unhidden")),
    "metadata_visible": (lambda d: x.set_sheet_state(d, META, None), only_warning("metadata_unhidden")),
    "template_sheet_hidden": (lambda d: x.set_sheet_state(d, SCORE, "hidden"), error_at(SCORE, "template_modified")),
    "template_hash_deleted": (lambda d: x.drop_custom_property(d, "jixiao_template_hash"),
                              error_at("jixiao_template_hash", "template_modified")),
    "protection_removed": (lambda d: x.drop_protection(d, SCORE), only_warning("protection_removed")),
    "array_formula_and_calc_chain": (array_and_calc_chain, clean),
    "date1904": (lambda d: x.edit_part(d, "xl/workbook.xml", lambda s: s.replace("<workbookPr ", '<workbookPr date1904="1" ', 1)),
                 error("template_modified")),
    "precision_as_displayed": (lambda d: x.edit_part(d, "xl/workbook.xml", lambda s: s.replace(
        "<calcPr ", '<calcPr fullPrecision="0" ', 1)), error("template_modified")),
    "utf16_sheet": (utf16_sheet, clean),
    "openpyxl_resave": (openpyxl_resave, only_not_recalculated),
    "untouched": (lambda d: d, clean),
}


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, dict]:
    work = tmp_path_factory.mktemp("shows")
    base = seed()
    for name, (build, _) in CASES.items():
        (work / f"{name}.xlsx").write_bytes(build(base))
    res = subprocess.run([sys.executable, "-m", "cli.main", "verify", str(work), "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert "Traceback" not in res.stderr + res.stdout, res.stderr[-2000:]
    assert res.returncode == 2, res.stderr[-500:]  # some files are rejected
    return {Path(r["file"]).stem: r for r in json.loads(res.stdout)}


@pytest.mark.parametrize("case", list(CASES))
def test_case_through_entry_point(case, verdicts):
    CASES[case][1](verdicts[case])


def test_formula_in_input_names_the_cell_and_formula(verdicts):
    messages = [f["message"] for f in verdicts["formula_in_input"]["findings"] if f["code"] == "invalid_input"]
    assert any("B5" in m and "=39" in m for m in messages), messages


def test_huge_values_never_end_in_internal_error(verdicts):
    for case in ("huge_but_valid_number", "beyond_excel_range", "inf", "nan"):
        assert verdicts[case]["total"] is not None
        assert not any("内部错误" in f["message"] for f in verdicts[case]["findings"])
