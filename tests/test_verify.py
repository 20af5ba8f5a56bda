"""Reader and verifier: trusted returns, stale and tampered returns, hostile files, foreign workbooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from cli.main import app
from workbook.fill import cell_style, fill_return, set_cell_xml
from workbook.read import read_return
from workbook.verify import verify

from . import hostile
from .conftest import ROOT, require_shared, seed_inputs
from .helpers import SEED_UNIT, factory, unit_values

runner = CliRunner()


def check(data: bytes, tmp_path: Path, name: str = "r.xlsx"):
    p = tmp_path / name
    p.write_bytes(data)
    return verify(read_return(p))


def errors(v) -> set[str]:
    return {f.code for f in v.findings if f.severity == "error"}


@pytest.fixture(scope="module")
def seed_bytes() -> bytes:
    return factory().build(SEED_UNIT, unit_values(seed_inputs()))


def test_generated_seed_verifies_clean(seed_bytes, tmp_path):
    v = check(seed_bytes, tmp_path)
    assert errors(v) == set()
    assert v.report.total == 100 and v.report.grade == "优" and v.cached_total == 100
    assert v.ret.unit["budget_code"] == "200009"
    assert "text_mismatch" in v.codes()  # 编制39人 in the prose vs 50 in the table


def test_reader_finds_everything_by_name(seed_bytes, tmp_path):
    data = fill_return(seed_bytes, {"goals_qual": [["维护网络正常运行", "完成"]], "note_benefit": "说明",
                                    "evaluators": [["孙伟", "主任", "社保中心"]], "explain_text_staff_quota": "编制已调整"})
    r = read_return(tmp_path / "x.xlsx", data)
    assert r.inputs["staff_quota"] == 50 and r.inputs["rules_exist"] == "是" and r.inputs["report_date"] == "2022-05-17"
    assert r.input_cells["staff_quota"] == "一、基本概况!B5"
    assert r.tables["goals_qual"] == [["维护网络正常运行", "完成"]]
    assert r.tables["evaluators"] == [["孙伟", "主任", "社保中心"]]
    assert r.notes["benefit"] == "说明" and r.explanations["text_staff_quota"] == "编制已调整"
    assert r.cached["total_score"] == 100 and r.cached["grade"] == "优"
    assert r.return_id and r.template_id == "jixiao.zhengti"
    v = verify(r)
    explained = [f for f in v.findings if f.code == "text_mismatch"]
    assert explained and all(f.explained for f in explained)


def test_input_edited_without_recalculation(seed_bytes, tmp_path):
    v = check(fill_return(seed_bytes, {"staff_quota": 39}), tmp_path)
    assert v.report.total == 95 and v.cached_total == 100
    mismatch = [f for f in v.findings if f.code == "score_mismatch"]
    assert {f.where for f in mismatch} >= {"score_staff_control", "total_score", "subtotal_input"}
    assert errors(v) == {"score_mismatch"}


def test_never_recalculated(seed_bytes, tmp_path):
    v = check(hostile.strip_cached_values(fill_return(seed_bytes, {"staff_quota": 39})), tmp_path)
    assert "not_recalculated" in v.codes() and "score_mismatch" not in v.codes()
    assert v.report.total == 95  # the recomputed values stand
    assert errors(v) == set()


def test_score_formula_replaced_by_constant(seed_bytes, tmp_path):
    r = read_return(tmp_path / "a.xlsx", seed_bytes)
    sheet, ref = r.names["score_staff_control"].split("!")
    ref = ref.replace("$", "")
    style = cell_style(seed_bytes, "附件3-2 评分表", ref)
    data = fill_return(seed_bytes, {"staff_quota": 39})
    data = set_cell_xml(data, "附件3-2 评分表", ref, f'<c r="{ref}"{style}><v>5</v></c>')
    v = check(data, tmp_path)
    tampered = [f for f in v.findings if f.code == "formula_tampered"]
    assert [f.where for f in tampered] == [f"附件3-2 评分表!{ref}"]
    assert "score_mismatch" in v.codes()  # total 100 claimed, 95 recomputed


def test_formula_cell_unlocked_and_edited(seed_bytes, tmp_path):
    r = read_return(tmp_path / "a.xlsx", seed_bytes)
    ref = r.names["score_benefit"].split("!")[1].replace("$", "")
    note_ref = r.names["note_benefit"].split("!")[1].replace("$", "")
    unlocked_style = cell_style(seed_bytes, "附件3-2 评分表", note_ref)
    data = set_cell_xml(seed_bytes, "附件3-2 评分表", ref,
                        f'<c r="{ref}"{unlocked_style}><f>MIN(15,benefit_score)+1</f><v>15</v></c>')
    v = check(data, tmp_path)
    assert errors(v) == {"formula_tampered", "template_modified"}
    assert any(f.where == f"附件3-2 评分表!{ref}" and "解除锁定" in f.message for f in v.findings)


def test_sheet_added(seed_bytes, tmp_path):
    v = check(hostile.add_sheet(seed_bytes), tmp_path)
    assert errors(v) == {"template_modified"}
    assert any("我的计算" in f.message for f in v.findings)


def test_unknown_template(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "某单位自己做的表"
    p = tmp_path / "own.xlsx"
    wb.save(p)
    v = verify(read_return(p))
    assert [f.code for f in v.findings] == ["template_unknown"]


@pytest.mark.parametrize("kind", ["text", "empty", "ole2", "truncated", "crc", "macro", "xlsm_type", "external",
                                  "bomb", "entries", "entities"])
def test_hostile_files_rejected(kind, seed_bytes, tmp_path):
    data = {
        "text": lambda: "这是一个文本文件".encode(),
        "empty": lambda: b"",
        "ole2": hostile.ole2,
        "truncated": lambda: hostile.truncated(seed_bytes),
        "crc": lambda: hostile.crc_broken(seed_bytes),
        "macro": lambda: hostile.with_macro(seed_bytes),
        "xlsm_type": lambda: hostile.rezip(seed_bytes, edit=lambda n, p: p.replace(
            b"sheet.main+xml", b"sheet.macroEnabled.main+xml") if n == "[Content_Types].xml" else p),
        "external": lambda: hostile.with_external_link(seed_bytes),
        "bomb": hostile.zip_bomb,
        "entries": hostile.many_entries,
        "entities": lambda: hostile.entity_attack(seed_bytes),
    }[kind]()
    v = check(data, tmp_path)
    assert v.rejected, kind
    assert [f.code for f in v.findings] == ["file_rejected"]
    assert re.search(r"[\u4e00-\u9fff]", v.findings[0].message)  # a Chinese reason


def test_cli_verify_exit_codes_and_json(seed_bytes, tmp_path):
    good, bad, junk = tmp_path / "good.xlsx", tmp_path / "bad.xlsx", tmp_path / "junk.xlsx"
    good.write_bytes(seed_bytes)
    bad.write_bytes(fill_return(seed_bytes, {"staff_quota": 39}))
    junk.write_bytes(b"not a zip")
    res = runner.invoke(app, ["verify", str(good)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["verify", str(good), str(bad)])
    assert res.exit_code == 1 and "score_mismatch" in res.output
    res = runner.invoke(app, ["verify", str(tmp_path), "--json"])
    assert res.exit_code == 2
    reports = json.loads(res.output)
    assert len(reports) == 3
    by_name = {Path(r["file"]).name: r for r in reports}
    assert by_name["junk.xlsx"]["findings"][0]["code"] == "file_rejected"
    assert by_name["bad.xlsx"]["total"] == 95 and by_name["bad.xlsx"]["cached_total"] == 100
    assert "Traceback" not in res.output


def test_cli_read_json_contract(seed_bytes, tmp_path):
    p = tmp_path / "good.xlsx"
    p.write_bytes(seed_bytes)
    res = runner.invoke(app, ["read", str(p), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert {"file", "sha256", "template", "return_id", "unit", "inputs", "indicators", "total", "cached_total",
            "grade", "findings"} <= set(out)
    ind = out["indicators"][0]
    assert ind["id"] == "staff_control" and ind["score"] == 5 and ind["cached_score"] == 5
    assert all("explained" in f for f in out["findings"])
    res = runner.invoke(app, ["read", str(tmp_path / "missing.xlsx")])
    assert res.exit_code == 2 and "找不到" in res.output


CORPUS = ROOT.parent / "shared" / "corpus" / "real-xlsx"


def test_real_corpus_is_classified_without_traceback():
    from workbook.batchread import check_many, expand_paths

    require_shared(CORPUS, "真实 .xlsx 语料")

    files, _ = expand_paths([CORPUS])
    assert len(files) >= 1000
    results = list(check_many(files))
    assert len(results) == len(files)
    for v in results:
        codes = [f.code for f in v.findings]
        assert codes in (["template_unknown"], ["file_rejected"]), (v.ret.file, codes)
    rejected = sum(1 for v in results if v.rejected)
    assert 0 < rejected < len(files) // 2


def test_shared_strings_lazy_lookup():
    from workbook.read import SharedStrings
    from workbook.xlsx import XmlRefused

    data = (b'<?xml version="1.0"?><x:sst xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3">'
            b"<x:si><x:t>a &amp; b</x:t></x:si>"
            b"<x:si><x:r><x:t>rich</x:t></x:r><x:r><x:t xml:space=\"preserve\"> text</x:t></x:r>"
            b"<x:rPh sb=\"0\" eb=\"1\"><x:t>PH</x:t></x:rPh></x:si>"
            b"<x:si/></x:sst>")
    sst = SharedStrings(data)
    assert len(sst) == 3
    assert sst[1] == "rich text" and sst[0] == "a & b" and sst[2] == ""
    with pytest.raises(IndexError):
        sst[3]
    with pytest.raises(XmlRefused):
        SharedStrings(hostile.BILLION_LAUGHS)


def test_identity_cells_changed(seed_bytes, tmp_path):
    v = check(fill_return(seed_bytes, {"budget_code": "999999"}), tmp_path)
    assert any(f.code == "template_modified" and f.where == "budget_code" and "200009" in f.message for f in v.findings)


@pytest.mark.parametrize(("a", "b"), [
    ("='评分数据'!$D$5+1", "=评分数据!D5 + 1"),
    ('=IF(staff_quota="","未填",ROUND(0.50*staff_actual,2))', '=if(STAFF_QUOTA = "", "未填", round(.5*staff_actual, 2))'),
    ("=_xlfn.IFERROR(a,0)", "=IFERROR(a,0)"),
    ("=SUM(score_a,score_b)", "=SUM( score_a , score_b )"),
])
def test_formula_normalisation_accepts_reserialisation(a, b):
    from workbook.normalize import same_formula

    assert same_formula(a, b)


@pytest.mark.parametrize(("a", "b"), [
    ('=IF(x="是",1,0)', '=IF(x="否",1,0)'),  # string literals are compared exactly
    ("=ROUND(x,2)", "=ROUND(x,3)"),
    ("=score_a+score_b", "=score_a-score_b"),
    ("=MIN(5,x)", "=MIN(15,x)"),
])
def test_formula_normalisation_keeps_real_differences(a, b):
    from workbook.normalize import same_formula

    assert not same_formula(a, b)


def test_shared_formulas_are_expanded(seed_bytes, tmp_path):
    """Excel stores repeated formulas as shared formulas; that alone is not tampering."""
    from workbook.form.layout import FINANCE, build_plan
    from workbook.template import default_template
    from workbook.xlsx import cell_ref

    plan = build_plan(default_template())
    echoes = [cell_ref(c.row, c.col) for s, c in plan.formula_cells()
              if s == FINANCE and c.value == '=IF(unit_name="","",unit_name)']
    assert len(echoes) >= 2
    master, follower = echoes[0], echoes[1]
    data = set_cell_xml(seed_bytes, FINANCE, master, f'<c r="{master}" t="str"><f t="shared" ref="{master}:{follower}" '
                        f'si="0">IF(unit_name="","",unit_name)</f><v>x</v></c>')
    data = set_cell_xml(data, FINANCE, follower, f'<c r="{follower}" t="str"><f t="shared" si="0"/><v>x</v></c>')
    v = check(data, tmp_path)
    assert not {"formula_tampered", "template_modified"} & v.codes(), [f.message for f in v.findings][:3]


def test_tampered_formula_message_is_short_and_names_the_cell(seed_bytes, tmp_path):
    r = read_return(tmp_path / "a.xlsx", seed_bytes)
    ref = r.names["total_score"].split("!")[1].replace("$", "")
    style = cell_style(seed_bytes, "附件3-2 评分表", ref)
    data = set_cell_xml(seed_bytes, "附件3-2 评分表", ref, f'<c r="{ref}"{style}><v>100</v></c>')
    v = check(data, tmp_path)
    (f,) = [f for f in v.findings if f.code == "formula_tampered"]
    assert f.where == f"附件3-2 评分表!{ref}" and ref in f.message
    assert len(f.message) < 140 and f.message.endswith("…）")  # the expected formula (~900 characters) is cut
