"""附件3-1 returns read and verified: clean, tampered formula, forged cached score, changed identity, through
the library and the real entry point."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from workbook.read import read_return
from workbook.verify import verify

from .test_rowform_workbook import CASES, UNIT, factory

ROOT = Path(__file__).resolve().parent.parent


def rewrite(data: bytes, part: str, pattern: str, repl: str) -> bytes:
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            payload = zin.read(info.filename)
            if info.filename == part:
                text, n = re.subn(pattern, repl, payload.decode("utf-8"), count=1)
                assert n == 1, pattern
                payload = text.encode("utf-8")
            zout.writestr(info, payload)
    return out.getvalue()


def verified(tmp_path: Path, data: bytes, name: str = "x.xlsx"):
    p = tmp_path / name
    p.write_bytes(data)
    return verify(read_return(p))


def codes(v) -> list[str]:
    return sorted(f.code for f in v.findings)


def test_clean_return_verifies_with_the_engines_scores(tmp_path):
    v = verified(tmp_path, factory().build(UNIT, CASES["partial"]))
    assert v.ret.row_form is not None and v.ret.unit["project_name"] == "就业技能培训项目"
    assert codes(v) == ["note_missing", "note_missing", "note_missing"]
    assert float(v.report.total) == 89.5 and v.report.grade == "良" and v.cached_total == 89.5
    d = v.to_dict()
    assert d["template"]["id"] == "jixiao.xiangmu" and d["total"] == 89.5


def test_every_hand_case_verifies_without_integrity_findings(tmp_path):
    for name, inputs in CASES.items():
        v = verified(tmp_path, factory().build(UNIT, inputs), f"{name}.xlsx")
        bad = [f for f in v.findings if f.code in ("formula_tampered", "score_mismatch", "template_modified",
                                                   "identity_inconsistent", "identity_missing")]
        assert not bad, (name, bad)


def test_a_replaced_formula_is_tampered(tmp_path):
    data = factory().build(UNIT, CASES["partial"])
    forged = rewrite(data, "xl/worksheets/sheet2.xml", r"<f>ROUND\(SUM\(score_funds[^<]*</f>", "<f>100</f>")
    v = verified(tmp_path, forged)
    assert "formula_tampered" in codes(v)


def test_a_forged_cached_total_is_a_score_mismatch(tmp_path):
    data = factory().build(UNIT, CASES["partial"])
    forged = rewrite(data, "xl/worksheets/sheet2.xml", r"(<f>IF\(audit_complete=&quot;未完成&quot;,&quot;未完成&quot;,total_uncapped\)</f><v>)[^<]*(</v>)", r"\g<1>100\g<2>")
    v = verified(tmp_path, forged)
    assert [f.where for f in v.findings if f.code == "score_mismatch"] == ["total_score"]


def test_a_changed_project_name_is_caught(tmp_path):
    data = factory().build(UNIT, CASES["full"])
    forged = rewrite(data, "xl/worksheets/sheet2.xml", r"(<c r=\"B6\"[^>]*t=\"inlineStr\"><is><t[^>]*>)[^<]*", r"\g<1>别的项目")
    v = verified(tmp_path, forged)
    assert any(f.code == "template_modified" and f.where == "project_name" for f in v.findings), v.findings


def test_verify_through_the_entry_point(tmp_path):
    p = tmp_path / "项目.xlsx"
    p.write_bytes(factory().build(UNIT, CASES["points_off"]))
    r = subprocess.run([sys.executable, "-m", "cli.main", "verify", str(p), "--json"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    (d,) = json.loads(r.stdout)
    assert d["template"]["id"] == "jixiao.xiangmu"
    assert any(f["code"] == "invalid_input" and f["where"] == "output" for f in d["findings"])


def test_collect_stores_a_project_return_under_its_own_key(tmp_path):
    """A 附件3-1 return is kept as its project's current return; the unit's 附件3-2 slot stays empty."""
    from workbook.collect import collect
    from workbook.store import Store

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "项目.xlsx").write_bytes(factory().build(UNIT, CASES["full"]))
    with Store(tmp_path / "j.sqlite") as store:
        summary = collect([folder], store, workers=1)
        assert summary.new == 1 and summary.rejected_count == 0
        assert store.current(2021) == []
        (row,) = store.current(2021, form="jixiao.xiangmu")
        assert (row["budget_code"], row["project_key"], row["project_name"]) == ("200009", "XM2021-01", "就业技能培训项目")
        assert row["report"]["total"] == 100 and row["return"]["unit"]["project_code"] == "XM2021-01"
