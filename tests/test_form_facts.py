"""Issue #11: a form's facts live in its TOML, never in the Python code.

No module outside templates/ names an input key, computed key, text table or sheet title of a built-in form
(the lists are taken from the TOML files); the template versions issued before the facts moved (2021.1–2021.3)
take them from a frozen companion file and their returns — files written by the code before the move — still
verify clean; 2021.4 workbooks are 2021.3 workbooks cell for cell, but for the version and hash.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import hashlib
import re
import zipfile
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest

from workbook.form.layout import META
from workbook.form.rowform import xiangmu_template
from workbook.form.unit import IDENTITY_KEYS
from workbook.generate import WorkbookFactory
from workbook.read import read_return
from workbook.template import TEMPLATES_DIR, TemplateError, default_template, known_templates, parse_template
from workbook.verify import verify

from .conftest import seed_inputs
from .helpers import SEED_UNIT, unit_values

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FACTS = TEMPLATES_DIR / "zhengti-facts.toml"
# templates/zhengti-facts.toml is frozen: returns of 2021.1–2021.3 are verified against plans built from it.
FACTS_SHA256 = "0f8495b2991736dd2fa409b2126cdc7faaf5427426e13d9958629196b7fad36b"

# Identifiers (Python names, Jinja variables; never Python string literals) that are ordinary English words
# and also happen to be input keys.
IDENTIFIER_ALLOWLIST = {
    "problems": "the usual name of a list of lint/roster problems (存在的主要问题 is the input `problems`)",
}
# String literals equal to a sheet title that mean something else.
TITLE_ALLOWLIST = {
    ("web/pages/board.py", "审核"): "the board CSV's 审核 column: the bureau's review status, not the 审核 sheet",
}


def identity_keys() -> set[str]:
    """The identity every form shares (roster columns, Unit fields, MAC, store columns), not a form's own fact."""
    t = default_template()
    return {k for k, spec in t.inputs.items() if spec.identity}


def form_keys() -> set[str]:
    """Every input key, computed key and text table of the built-in forms, from their TOML files."""
    t = default_template()
    zhengti = set(t.inputs) | set(t.computed) | set(t.form.table_columns)
    rows = xiangmu_template()
    xiangmu = {k for k in rows.input_keys() if not k.startswith("ind_")}  # ind_<level>_<n>_<col>: a scheme
    return (zhengti | xiangmu) - identity_keys() - {f.key for f in rows.identity}


def sheet_titles() -> set[str]:
    titles = {title for t in known_templates().values() for title in t.form.titles()}
    return titles | {xiangmu_template().title}


def python_files() -> list[Path]:
    skip = {"templates", "tests", "mutants", "build"}
    return sorted(p for p in ROOT.rglob("*.py")
                  if not (set(p.relative_to(ROOT).parts[:-1]) & skip or any(s.startswith(".") for s in p.parts)))


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _identifiers(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, (ast.arg, ast.keyword)):
        return [node.arg] if node.arg else []
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.alias):
        return [node.asname or node.name]
    return []


def form_facts_in_python(keys: set[str], titles: set[str], files: list[Path] | None = None,
                         root: Path = ROOT) -> list[str]:
    found = []
    for path in python_files() if files is None else files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        where = path.relative_to(root)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", node.value))
                found += [f"{where}:{node.lineno} string names key {k!r}" for k in sorted(words & keys)]
                if node.value.strip() in titles and (str(where), node.value.strip()) not in TITLE_ALLOWLIST:
                    found.append(f"{where}:{node.lineno} string is the sheet title {node.value!r}")
            for name in _identifiers(node):
                if name in keys and name not in IDENTIFIER_ALLOWLIST:
                    found.append(f"{where}:{getattr(node, 'lineno', '?')} identifier {name!r} is an input key")
    return found


def test_no_module_outside_templates_names_a_form_key_or_sheet_title():
    keys, titles = form_keys(), sheet_titles()
    assert {"staff_quota", "income_total", "goals_quant", "funds_reason"} <= keys  # the lists are real
    assert {"附件3-2 评分表", "二、收支情况", "审核", "项目支出绩效自评表"} <= titles
    assert len(python_files()) > 50
    assert form_facts_in_python(keys, titles) == []


def test_web_pages_name_no_form_key_or_sheet_title():
    keys = form_keys()
    titles = {t for t in sheet_titles() if len(t) >= 4}  # 封面, 审核: ordinary words in page text
    found = []
    for page in sorted((ROOT / "web" / "templates").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
        found += [f"{page.name}: key {k!r}" for k in sorted(words & keys - set(IDENTIFIER_ALLOWLIST))]
        found += [f"{page.name}: sheet title {t!r}" for t in sorted(titles) if t in text]
    assert found == []


def test_the_scan_finds_a_planted_key_and_title(tmp_path):
    """The scanner itself bites: a module naming a key or a title is reported."""
    planted = tmp_path / "_planted_form_fact.py"
    planted.write_text('"""Docstrings may say staff_quota."""\nX = {"staff_quota": 1}\nY = "评分数据"\n'
                       "def f(income_total):\n    return 1\n", encoding="utf-8")
    mine = form_facts_in_python(form_keys(), sheet_titles(), [planted], tmp_path)
    assert len(mine) == 3, mine
    assert any("'staff_quota'" in f and ":2 " in f for f in mine)
    assert any("'评分数据'" in f for f in mine) and any("'income_total'" in f for f in mine)


def test_identity_keys_are_shared_by_every_form():
    rows = {f.key for f in xiangmu_template().identity}
    assert identity_keys() == set(IDENTITY_KEYS)
    assert identity_keys() <= rows


# -- versions ----------------------------------------------------------------------------------------------

def test_old_versions_take_their_facts_from_the_frozen_companion():
    assert hashlib.sha256(FACTS.read_bytes()).hexdigest() == FACTS_SHA256, \
        "templates/zhengti-facts.toml is frozen: put a changed fact into a new version of zhengti.toml"
    current = default_template()
    assert current.version == "2021.4" and "[form.sheets]" in current.source
    for version in ("2021.1", "2021.2", "2021.3"):
        old = known_templates()[(current.id, version)]
        assert "[form" not in old.source  # the issued text (and so its content hash) is unchanged
        # the same workbook facts, from the companion (the cross-form figure, new in 2021.4, is read from the
        # current template by workbook.crossform)
        assert old.form == dataclasses.replace(current.form, projects_spend="")
    assert ("jixiao.zhengti", "facts") not in {(k[0], k[1]) for k in known_templates()}


def test_a_template_without_facts_is_refused_naming_them():
    text = (TEMPLATES_DIR / "zhengti-2021.3.toml").read_text(encoding="utf-8")
    with pytest.raises(TemplateError) as err:  # a version the companion does not serve
        parse_template(text.replace('version = "2021.3"', 'version = "2099.1"'), "x.toml")
    assert any("[form]" in p for p in err.value.problems)
    with pytest.raises(TemplateError) as err:  # the companion is no template: one clear sentence
        parse_template(FACTS.read_text(encoding="utf-8"), FACTS.name)
    assert len(err.value.problems) == 1 and "kind = \"facts\"" in err.value.problems[0]
    current = default_template().source
    with pytest.raises(TemplateError) as err:
        parse_template(current.replace('audit = "审核"\n', ""), "y.toml")
    assert any("audit" in p for p in err.value.problems)
    with pytest.raises(TemplateError) as err:
        parse_template(current.replace('"sangong_total", "assets_total"]', '"sangong_totl", "assets_total"]'), "z.toml")
    assert any("sangong_totl" in p for p in err.value.problems)


@pytest.mark.parametrize("name", ["zhengti-2021.1.xlsx", "zhengti-2021.2.xlsx", "zhengti-2021.3.xlsx",
                                  "zhengti-2021.3-deducted.xlsx"])
def test_returns_written_before_the_move_still_verify_clean(name):
    """Files generated by the code before the facts moved (kept in tests/fixtures) verify without an error."""
    v = verify(read_return(FIXTURES / name))
    assert v.ret.template_version == name.split("-")[1].removesuffix(".xlsx")
    assert [f for f in v.findings if f.severity == "error"] == []
    assert v.report.total is not None and v.report.total > 0
    t = known_templates()[("jixiao.zhengti", v.ret.template_version)]
    assert v.ret.template_hash == t.content_hash  # the issued text's hash: the old file is unchanged


def _parts(data: bytes) -> dict[str, bytes]:
    z = zipfile.ZipFile(BytesIO(data))
    salt = re.compile(rb'\s\w*(?:[sS]altValue|[hH]ashValue)="[^"]*"')  # protection hashes: salted afresh each time
    return {n: salt.sub(b"", z.read(n)) for n in z.namelist()}


def test_2021_4_workbooks_are_2021_3_workbooks_but_for_version_and_hash():
    old = known_templates()[("jixiao.zhengti", "2021.3")]
    new = default_template()
    when = dt.datetime(2022, 1, 5, 8, 0, tzinfo=dt.UTC)
    values = {**unit_values(seed_inputs()), "goals_qual": [["甲", "乙"]], "evaluators": [["张三", "科长", "财务科"]]}
    a = WorkbookFactory(old).build(SEED_UNIT, values, return_id="r-1", generated_at=when)
    b = WorkbookFactory(new).build(SEED_UNIT, values, return_id="r-1", generated_at=when)
    pa, pb = _parts(a), _parts(b)
    assert pa.keys() == pb.keys()
    wa, wb = openpyxl.load_workbook(BytesIO(a)), openpyxl.load_workbook(BytesIO(b))
    assert wa.sheetnames == wb.sheetnames
    differing = sorted(n for n in pa if pa[n] != pb[n])
    sheets = [n for n in differing if n.startswith("xl/worksheets/")]
    assert len(sheets) == 1 and sorted(set(differing) - set(sheets)) == ["docProps/core.xml", "docProps/custom.xml"]
    # the document description names the template version; the times are the base workbook's
    version = re.compile(rb"2021\.[34]|<dcterms:(?:created|modified)[^<]*")
    assert version.sub(b"", pa["docProps/core.xml"]) == version.sub(b"", pb["docProps/core.xml"])
    for ws_a, ws_b in zip(wa.worksheets, wb.worksheets, strict=True):
        cells_a = {c.coordinate: c.value for row in ws_a.iter_rows() for c in row}
        cells_b = {c.coordinate: c.value for row in ws_b.iter_rows() for c in row}
        if ws_a.title != META:
            assert cells_a == cells_b, ws_a.title
            continue
        changed = {k for k in cells_a if cells_a[k] != cells_b.get(k)}
        rows = {cells_a[f"A{k[1:]}"] for k in changed}
        assert rows == {"template_version", "template_hash"}, rows
    assert not [f for f in verify(read_return("new.xlsx", b)).findings if f.severity == "error"]
