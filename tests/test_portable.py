"""Portable formulas and template revisions: what every engine evaluates alike, and old returns still verify."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from workbook.engine import score
from workbook.form.layout import build_plan
from workbook.formulas import INCOMPLETE, named_formulas
from workbook.generate import WorkbookFactory
from workbook.normalize import same_formula
from workbook.read import read_return
from workbook.template import TEMPLATES_DIR, default_template, known_templates, load_template
from workbook.verify import verify

from .conftest import seed_inputs
from .helpers import SEED_UNIT, unit_values

OLD_VERSIONS = sorted(p for p in TEMPLATES_DIR.glob("zhengti-*.toml") if not p.stem.endswith("-facts"))


def errors(v) -> list:
    return [f for f in v.findings if f.severity == "error"]


def test_current_formulas_avoid_n_and_round_before_text():
    t = default_template()
    assert t.formula_revision >= 3
    plan = build_plan(t)
    formulas = [c.value for _, c in plan.formula_cells()]
    assert not [f for f in formulas if re.search(r"(?<![A-Z])N\(", f)], "N() is #NUM! on a blank cell in Gnumeric"
    texts = [m for f in formulas for m in re.findall(r'TEXT\((.*?),"0(?:\.00)?"\)', f)]
    assert texts and all(m.startswith("ROUND(") for m in texts), texts[:3]


@pytest.mark.parametrize("path", OLD_VERSIONS, ids=lambda p: p.name)
def test_old_template_versions_are_known_and_keep_their_formulas(path):
    old = load_template(path)
    assert (old.id, old.version) in known_templates()
    assert old.version != default_template().version
    assert old.formula_revision <= default_template().formula_revision  # 2021.4 moved facts, not formulas
    assert any("N(" in f for f in named_formulas(old).values()) or old.formula_revision >= 3


@pytest.mark.parametrize("path", OLD_VERSIONS, ids=lambda p: p.name)
def test_return_generated_with_old_template_verifies_clean(path, tmp_path):
    """A return issued before the formula change (old template version) still verifies."""
    old = known_templates()[(load_template(path).id, load_template(path).version)]
    data = _unchecked_factory(old).build(SEED_UNIT, unit_values(seed_inputs()))
    p = tmp_path / "old.xlsx"
    p.write_bytes(data)
    v = verify(read_return(p))
    assert v.ret.template_version == old.version
    assert not errors(v), errors(v)[:3]
    assert v.report.total == 100


def _unchecked_factory(t) -> WorkbookFactory:
    """A factory for an old template built without the generator's Excel self-check (2021.1 fails it), as the
    workbooks issued back then were."""
    from workbook.generate.api import DEFAULT_PASSWORD
    from workbook.generate.patch import BaseWorkbook
    from workbook.generate.protection import ProtectionHash
    from workbook.generate.render import render_base

    protection = ProtectionHash.of(DEFAULT_PASSWORD)
    f = WorkbookFactory.__new__(WorkbookFactory)
    f.template, f.password, f.plan = t, DEFAULT_PASSWORD, build_plan(t)
    f.base = BaseWorkbook(render_base(f.plan, protection), f.plan, protection)
    return f


def test_blank_workbook_shows_incomplete_not_a_failing_total(tmp_path):
    f = WorkbookFactory()
    p = tmp_path / "blank.xlsx"
    p.write_bytes(f.build(SEED_UNIT))
    r = read_return(p)
    assert r.cached["total_score"] == INCOMPLETE and r.cached["grade"] == INCOMPLETE
    assert r.cached["subtotal_input"] == INCOMPLETE
    # a subtotal whose scores are all computable still shows its number
    rep = score({**seed_inputs(), "card_paid": None})
    assert rep.indicator("card_rate").status == "missing"
    p.write_bytes(f.build(SEED_UNIT, unit_values({**seed_inputs(), "card_paid": None})))
    r = read_return(p)
    assert r.cached["total_score"] == INCOMPLETE and r.cached["subtotal_output"] == 25
    v = verify(r)
    assert "score_mismatch" not in v.codes()


def test_numeric_literals_compare_by_value():
    assert same_formula("=3-ROUND(0.200000000000000000003*x,4)", "=3-ROUND(0.2*x,4)")
    assert same_formula("=IF(a>0.0099999999999999999998,1,0)", "=IF(a>0.01,1,0)")
    assert same_formula("=MIN(5.0,x)", "=MIN(5,x)")
    assert same_formula("=MIN(.50,x)", "=min(0.5, x)")
    assert not same_formula("=MIN(5.01,x)", "=MIN(5,x)")
    assert not same_formula('=IF(a="5.0",1,0)', '=IF(a="5",1,0)')  # text stays text


def _drop_print_titles(data: bytes) -> bytes:
    src = zipfile.ZipFile(BytesIO(data))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/workbook.xml":
                new = re.sub(rb'<definedName name="_xlnm\.Print_Titles"[^>]*>[^<]*</definedName>', b"", body)
                assert new != body
                body = new
            z.writestr(info, body)
    return out.getvalue()


def test_return_without_print_titles_verifies_clean(tmp_path: Path):
    data = WorkbookFactory().build(SEED_UNIT, unit_values(seed_inputs()))
    p = tmp_path / "np.xlsx"
    p.write_bytes(_drop_print_titles(data))
    assert not errors(verify(read_return(p)))
