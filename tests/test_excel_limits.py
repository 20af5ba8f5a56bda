"""Excel-clean workbooks: Excel's documented limits, the OOXML schema, string escapes, protection hashes."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from workbook.collect import collect
from workbook.consolidate import consolidate
from workbook.excel_limits import (
    CELL_TEXT_MAX,
    FORMULA_MAX,
    ExcelLimitError,
    excel_problems,
    formula_problems,
    name_problem,
    sheet_name_problem,
)
from workbook.fill import fill_return
from workbook.form.layout import build_plan
from workbook.generate import Unit, WorkbookFactory
from workbook.generate.api import DEFAULT_PASSWORD
from workbook.generate.patch import BaseWorkbook
from workbook.generate.protection import ProtectionHash, legacy_password_hash, sha512_password_hash
from workbook.generate.render import render_base
from workbook.libreoffice import recalculate
from workbook.read import read_return
from workbook.store import Store
from workbook.template import default_template, known_templates
from workbook.verify import verify

from .conftest import ROOT, require_soffice, seed_inputs
from .helpers import SEED_UNIT, factory, named_values, unit_values

OLD = ("jixiao.zhengti", "2021.1")


def rewrite(data: bytes, part: str, edit) -> bytes:
    """The same xlsx with one part's text changed by `edit`."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            payload = zin.read(info)
            if info.filename == part:
                payload = edit(payload.decode("utf-8")).encode("utf-8")
            zout.writestr(info, payload)
    return out.getvalue()


def small_workbook() -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("表")
    ws.write_formula(0, 0, "=SUM(1,2)", None, 3)
    ws.write_string(1, 0, "短文字")
    ws.data_validation(0, 1, 0, 1, {"validate": "list", "source": ["是", "否"], "input_title": "标题",
                                    "input_message": "提示", "error_title": "出错", "error_message": "错了"})
    ws.set_header("&L页眉")
    wb.define_name("good_name", "=表!$A$1")
    wb.close()
    return buf.getvalue()


# -- the checker itself ---------------------------------------------------------------------------

def test_small_workbook_is_clean():
    assert excel_problems(small_workbook()) == []


def test_formula_length_is_counted_after_xml_unescaping():
    body = '"' + "&" * 3000 + '"&"' + "<" * 3000 + '"'  # 6,006 characters; 3 times longer as XML
    assert formula_problems(body) == []
    data = rewrite(small_workbook(), "xl/worksheets/sheet1.xml",
                   lambda x: x.replace("<f>SUM(1,2)</f>", "<f>" + body.replace("&", "&amp;").replace("<", "&lt;") + "</f>"))
    assert excel_problems(data) == []
    long_body = "1" + "+1" * (FORMULA_MAX // 2)
    data = rewrite(small_workbook(), "xl/worksheets/sheet1.xml", lambda x: x.replace("SUM(1,2)", long_body))
    assert [p for p in excel_problems(data) if "表!A1" in p and str(FORMULA_MAX) in p]


def test_nesting_and_argument_limits():
    assert formula_problems("ABS(" * 64 + "1" + ")" * 64) == []
    assert any("嵌套 65 层" in p for p in formula_problems("ABS(" * 65 + "1" + ")" * 65))
    assert formula_problems("SUM(" + ",".join(["1"] * 255) + ")") == []
    assert any("256 个参数" in p for p in formula_problems("SUM(" + ",".join(["1"] * 256) + ")"))
    # parentheses that group are not function levels; commas inside an inner call are its own
    assert formula_problems("(" * 80 + "1" + ")" * 80) == []
    assert formula_problems("SUM(" + ",".join(["MAX(1,2)"] * 200) + ")") == []


@pytest.mark.parametrize(("attr", "limit"), [("promptTitle", 32), ("prompt", 255), ("errorTitle", 32), ("error", 225)])
def test_validation_message_limits(attr, limit):
    original = {"promptTitle": "标题", "prompt": "提示", "errorTitle": "出错", "error": "错了"}[attr]

    def with_length(n):
        return rewrite(small_workbook(), "xl/worksheets/sheet1.xml",
                       lambda x: x.replace(f'{attr}="{original}"', f'{attr}="{"字" * n}"'))

    assert excel_problems(with_length(limit)) == []
    assert [p for p in excel_problems(with_length(limit + 1)) if str(limit) in p]


def test_list_source_limit():
    def with_list(n):
        items = ("是," * n)[:n]
        return rewrite(small_workbook(), "xl/worksheets/sheet1.xml",
                       lambda x: re.sub(r"<formula1>[^<]*</formula1>", f'<formula1>"{items}"</formula1>', x))

    assert excel_problems(with_list(255)) == []
    assert [p for p in excel_problems(with_list(256)) if "下拉列表 256" in p]


def test_names_sheets_text_and_headers():
    assert name_problem("staff_quota") is None and name_problem("人员编制") is None and name_problem("_xlnm.Print_Titles") is None
    for bad in ("A1", "xfd1048576", "R1C1", "r", "C", "1abc", "my name", "a-b", "x" * 256, ""):
        assert name_problem(bad), bad
    assert name_problem("XFE1") is None  # beyond the last column: not a cell address
    assert sheet_name_problem("附件3-2 评分表") is None
    for bad in ("a/b", "a[1]", "x" * 32, "'引号", ""):
        assert sheet_name_problem(bad), bad
    dup = rewrite(small_workbook(), "xl/workbook.xml", lambda x: x.replace(
        "</definedNames>", '<definedName name="GOOD_NAME">表!$A$2</definedName></definedNames>'))
    assert [p for p in excel_problems(dup) if "重复" in p]
    local = rewrite(small_workbook(), "xl/workbook.xml", lambda x: x.replace(
        "</definedNames>", '<definedName name="good_name" localSheetId="0">表!$A$2</definedName></definedNames>'))
    assert excel_problems(local) == []  # the same name in another scope is allowed
    bad_sheet = rewrite(small_workbook(), "xl/workbook.xml", lambda x: x.replace('name="表"', 'name="表:1"'))
    assert [p for p in excel_problems(bad_sheet) if "表:1" in p]
    long_text = rewrite(small_workbook(), "xl/sharedStrings.xml",
                        lambda x: x.replace("短文字", "长" * (CELL_TEXT_MAX + 1)))
    assert [p for p in excel_problems(long_text) if str(CELL_TEXT_MAX) in p]
    header = rewrite(small_workbook(), "xl/worksheets/sheet1.xml", lambda x: x.replace("&amp;L页眉", "&amp;L" + "页" * 254))
    assert [p for p in excel_problems(header) if "页眉页脚" in p]


# -- what jixiao produces -------------------------------------------------------------------------

def old_revision_factory() -> WorkbookFactory:
    """A factory for template 2021.1 built without the generator's self-check (which now refuses it)."""
    t = known_templates()[OLD]
    protection = ProtectionHash.of(DEFAULT_PASSWORD)
    f = WorkbookFactory.__new__(WorkbookFactory)
    f.template, f.password, f.plan = t, DEFAULT_PASSWORD, build_plan(t)
    f.base = BaseWorkbook(render_base(f.plan, protection), f.plan, protection)
    return f


def test_previous_template_revision_breaks_excel_and_current_does_not():
    """The 审核 row 数据类型和取值范围 of template 2021.1 held a 9,529-character formula (Excel: max 8,192)."""
    problems = excel_problems(old_revision_factory().build(SEED_UNIT, unit_values(seed_inputs())))
    assert problems and all("审核!" in p and "超过 Excel 上限 8192" in p for p in problems)
    with pytest.raises(ExcelLimitError, match="Excel"):
        WorkbookFactory(known_templates()[OLD])  # the generator refuses to issue such a workbook
    current = factory().build(SEED_UNIT, unit_values(seed_inputs()))
    assert excel_problems(current) == []


def test_every_audit_formula_is_far_below_the_limit():
    wb = openpyxl.load_workbook(io.BytesIO(factory().build(SEED_UNIT, {})))
    lengths = [len(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
               if isinstance(c.value, str) and c.value.startswith("=")]
    assert lengths and max(lengths) <= 4000


def test_audit_sheet_shows_the_same_with_part_cells(tmp_path):
    """The counting rows show what they showed before: counts and messages from the hidden part cells."""
    inputs = unit_values(seed_inputs())
    inputs.update({"staff_quota": -5, "rules_exist": "也许", "budget_initial": None, "note_staff_control": None})
    data = factory().build(SEED_UNIT, inputs)
    p = tmp_path / "x.xlsx"
    p.write_bytes(data)
    shown = named_values(p)
    assert shown["audit_valid_inputs"] == "错误" and shown["audit_required_inputs"] == "错误"
    assert shown["audit_n_valid_inputs_1"] + shown["audit_n_valid_inputs_2"] + shown["audit_n_valid_inputs_3"] == 2
    r = read_return(p)
    ws = openpyxl.load_workbook(io.BytesIO(data), data_only=True)["审核"]
    messages = {ws.cell(row, 2).value: ws.cell(row, 4).value for row in range(6, ws.max_row + 1)}
    assert messages["数据类型和取值范围正确"] == "有 2 项数据类型或取值范围不正确"
    assert messages["必填数据均已填写"] == "有 1 项必填数据未填（评分表显示“未填”的指标）"
    hidden = {col for d in ws.column_dimensions.values() if d.hidden for col in range(d.min, d.max + 1)}
    assert {6, 7, 8} <= hidden and not hidden & {1, 2, 3, 4, 5}  # F:H hold the part cells
    v = verify(r)
    assert "formula_tampered" not in v.codes() and "template_modified" not in v.codes()


def test_returns_issued_under_the_previous_version_still_verify(tmp_path):
    p = tmp_path / "old.xlsx"
    p.write_bytes(old_revision_factory().build(SEED_UNIT, unit_values(seed_inputs())))
    v = verify(read_return(p))
    assert v.ret.template_version == "2021.1"
    assert {f.code for f in v.findings if f.severity == "error"} == set()
    assert v.report.total == 100


def test_roster_batch_filled_return_and_district_workbook_are_excel_clean(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("预算编码,单位名称,主管部门\n100001,甲单位,区财政局\n100002,乙_x0041_单位,区财政局\n", encoding="utf-8")
    out = tmp_path / "batch"
    run = subprocess.run([sys.executable, "-m", "cli.main", "generate", "--roster", str(roster), "--year", "2021",
                          "--out-dir", str(out), "--db", str(tmp_path / "j.sqlite")], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    issued = sorted(out.glob("*.xlsx"))
    assert len(issued) == 2
    for p in issued:
        assert excel_problems(p) == [], p.name
    filled = tmp_path / "filled.xlsx"
    long_text = "本单位" + "认真履行职责，" * 3000
    filled.write_bytes(fill_return(issued[0], {**unit_values(seed_inputs()), "achievements": long_text}))
    assert excel_problems(filled) == []
    with Store(tmp_path / "s.sqlite") as store:
        collect([filled], store, workers=1)
        consolidate(store, 2021, tmp_path / "district.xlsx")
    assert excel_problems(tmp_path / "district.xlsx") == []


def test_text_longer_than_a_cell_holds_is_refused():
    with pytest.raises(ValueError, match="32767"):
        factory().build(SEED_UNIT, {"achievements": "长" * (CELL_TEXT_MAX + 1)})


# -- _xHHHH_ in text ------------------------------------------------------------------------------

def test_literal_escape_sequence_in_unit_name_round_trips(tmp_path):
    name = "测试_x0041_单位"
    p = tmp_path / "u.xlsx"
    factory().write(p, Unit(name, "100009", 2021, "区_x4E00_局"), unit_values(seed_inputs()))
    with zipfile.ZipFile(p) as z:
        cover = next(z.read(n).decode() for n in z.namelist() if "_x005F_x0041_" in z.read(n).decode("utf-8", "ignore"))
    assert "测试_x005F_x0041_单位" in cover
    v = verify(read_return(p))
    assert v.ret.unit["unit_name"] == name and v.ret.unit["parent_dept"] == "区_x4E00_局"
    assert {f.code for f in v.findings if f.severity == "error"} == set()


def test_reader_decodes_escapes_as_excel_shows_them(tmp_path):
    data = factory().build(SEED_UNIT, {**unit_values(seed_inputs()), "contact_name": "张_x0041_三"})
    r = read_return(tmp_path / "a.xlsx", data)
    assert r.inputs["contact_name"] == "张_x0041_三"
    part = next(n for n in zipfile.ZipFile(io.BytesIO(data)).namelist()
                if "张_x005F_x0041_三" in zipfile.ZipFile(io.BytesIO(data)).read(n).decode("utf-8", "ignore"))
    escaped = rewrite(data, part, lambda x: x.replace("张_x005F_x0041_三", "张_x0041_三"))  # an escape, not a literal
    assert read_return(tmp_path / "b.xlsx", escaped).inputs["contact_name"] == "张A三"


def test_libreoffice_shows_the_literal_escape_text(tmp_path):
    require_soffice()
    p = tmp_path / "u.xlsx"
    factory().write(p, Unit("测试_x0041_单位", "100009", 2021, "区局"), unit_values(seed_inputs()))
    (saved,) = recalculate([p], tmp_path / "lo")
    r = read_return(saved)
    assert r.unit["unit_name"] == "测试_x0041_单位"


# -- protection passwords --------------------------------------------------------------------------

def test_protection_hashes_match_known_vectors():
    # ClosedXML's test vectors (Excel-compatible): SHA-512, 100,000 spins; and the legacy 16-bit verifier.
    salt = base64.b64decode("aVvPw1DNH3evPqRAd/y3UQ==")
    assert sha512_password_hash("12345", salt, 100000) == (
        "E+qAhyIg/HM0dUrPaENfimFOZp7wlOkJsf/sdG+AGHOA9grOv7VLb1ik2vuYohljI9G36e0ea9wnixCK0MMuyQ==")
    assert legacy_password_hash("12345") == "CA9C"


def test_chinese_password_is_written_as_sha512(tmp_path):
    pw = "绩效密码2021"
    data = WorkbookFactory(password=pw).build(SEED_UNIT, {})
    z = zipfile.ZipFile(io.BytesIO(data))
    sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    for part in sheets:
        tag = re.search(r"<sheetProtection\b[^>]*>", z.read(part).decode()).group(0)
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        assert attrs["algorithmName"] == "SHA-512" and attrs["spinCount"] == "100000"
        assert "password" not in attrs  # no 16-bit verifier for a non-ASCII password
        assert attrs["hashValue"] == sha512_password_hash(pw, base64.b64decode(attrs["saltValue"]))
        assert attrs["hashValue"] != sha512_password_hash("jixiao2021", base64.b64decode(attrs["saltValue"]))
    book = re.search(r"<workbookProtection\b[^>]*>", z.read("xl/workbook.xml").decode()).group(0)
    battrs = dict(re.findall(r'(\w+)="([^"]*)"', book))
    assert battrs["workbookAlgorithmName"] == "SHA-512" and battrs["lockStructure"] == "1"
    assert battrs["workbookHashValue"] == sha512_password_hash(pw, base64.b64decode(battrs["workbookSaltValue"]))


def test_ascii_password_keeps_the_legacy_verifier_too():
    data = factory().build(SEED_UNIT, {})
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet2.xml").decode()
    tag = re.search(r"<sheetProtection\b[^>]*>", xml).group(0)
    assert f'password="{legacy_password_hash("jixiao2021")}"' in tag and 'algorithmName="SHA-512"' in tag
    assert ProtectionHash.of("x", salt=b"1" * 16).legacy == legacy_password_hash("x")


# -- the OOXML schema --------------------------------------------------------------------------

def _schema_errors(path: Path) -> list[str]:
    openxml_audit = pytest.importorskip("openxml_audit", reason="openxml-audit 未安装（pip install -e '.[test]'）")
    result = openxml_audit.OpenXmlValidator().validate(str(path))
    return [str(e) for e in result.errors]


def test_ooxml_validator_accepts_xlsxwriter_files(tmp_path):
    p = tmp_path / "plain.xlsx"
    p.write_bytes(small_workbook())
    assert _schema_errors(p) == []


def test_generated_filled_and_district_workbooks_pass_schema_validation(tmp_path):
    blank = tmp_path / "blank.xlsx"
    factory().write(blank, Unit("某_x0041_单位", "100001", 2021, "区局"))
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(fill_return(blank, unit_values(seed_inputs())))
    chinese = tmp_path / "chinese-password.xlsx"
    chinese.write_bytes(WorkbookFactory(password="密码").build(SEED_UNIT, unit_values(seed_inputs())))
    with Store(tmp_path / "s.sqlite") as store:
        collect([filled], store, workers=1)
        consolidate(store, 2021, tmp_path / "district.xlsx")
    for p in (blank, filled, chinese, tmp_path / "district.xlsx"):
        assert _schema_errors(p) == [], p.name


def test_default_template_is_the_current_revision():
    t = default_template()
    assert t.formula_revision == 3 and t.version == "2021.4"  # 2021.4: facts moved into the TOML, same formulas
    assert known_templates()[("jixiao.zhengti", "2021.3")].formula_revision == 3
    assert known_templates()[OLD].formula_revision == 1
    assert known_templates()[("jixiao.zhengti", "2021.2")].formula_revision == 2
