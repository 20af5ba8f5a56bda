"""Differential reading: randomly mutated returns read by jixiao and by openpyxl.

Wherever the two readers see a different value behind a defined name, jixiao must reject the
file or report an error: a clean verdict may only stand on a reading every program shares.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbook.formulas import named_formulas
from workbook.read import read_return
from workbook.template import default_template
from workbook.verify import verify
from workbook.xlsx import split_ref

from . import xmledit as x
from .conftest import seed_inputs
from .helpers import SEED_UNIT, factory, unit_values

T = default_template()
NUMERIC_INPUTS = sorted(k for k, s in T.inputs.items() if s.type in ("money", "int", "rate", "score") and not s.identity)
TEXT_INPUTS = sorted(k for k, s in T.inputs.items() if s.type == "text" and not s.identity)
FORMULA_NAMES = sorted(named_formulas(T))
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"

_seed: bytes | None = None


def seed() -> bytes:
    global _seed
    if _seed is None:
        _seed = factory().build(SEED_UNIT, unit_values(seed_inputs()))
    return _seed


number_texts = st.one_of(
    st.sampled_from(["５０", "1_000", "nan", "inf", "-inf", "1E+400", " 50", "50 ", "0x10", "1e5", "50.0", "+50",
                     ".5", "5.", "1,000", "٣", "1E+26", "-0", "3000000000", "", "1e-400"]),
    st.integers(-10**6, 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
)


@st.composite
def mutation(draw):
    kind = draw(st.sampled_from(["number", "formula", "foreign_si", "rph", "dup_name", "local_name", "dup_cell",
                                 "v_before_f", "style", "move_sst", "cached", "comment_in_v", "shared_text"]))
    if kind == "number":
        key, text = draw(st.sampled_from(NUMERIC_INPUTS)), draw(number_texts)
        return kind, lambda d: x.set_named(d, key, f"<v>{text}</v>")
    if kind == "formula":
        key = draw(st.sampled_from(NUMERIC_INPUTS))
        expr = draw(st.sampled_from(["39", "1+1", "TODAY()", "staff_actual", "SUM(1,2)"]))
        return kind, lambda d: x.set_named(d, key, f"<f>{expr}</f><v>50</v>")
    if kind == "foreign_si":
        position = draw(st.integers(0, 40))
        return kind, lambda d: _foreign_si(d, position)
    if kind == "rph":
        key = draw(st.sampled_from(TEXT_INPUTS))
        return kind, lambda d: x.set_named(d, key, '<is><t>甲</t><rPh sb="0" eb="1"><t>JIA</t></rPh></is>',
                                           ' t="inlineStr"')
    if kind in ("dup_name", "local_name"):
        key = draw(st.sampled_from(NUMERIC_INPUTS))
        row = draw(st.integers(1, 60))
        if kind == "dup_name":
            return kind, lambda d: x.edit_part(d, "xl/workbook.xml", lambda s: s.replace(
                "<definedNames>", f"<definedNames><definedName name=\"{key}\">'评分数据'!$B${row}</definedName>", 1))
        return kind, lambda d: x.add_defined_name(
            d, f"<definedName name=\"{key}\" localSheetId=\"4\">'评分数据'!$B${row}</definedName>")
    if kind == "dup_cell":
        key, text = draw(st.sampled_from(NUMERIC_INPUTS)), draw(st.integers(0, 999))
        return kind, lambda d: _dup_cell(d, key, text)
    if kind == "v_before_f":
        name = draw(st.sampled_from(FORMULA_NAMES))
        return kind, lambda d: _v_before_f(d, name)
    if kind == "style":
        name, index = draw(st.sampled_from(FORMULA_NAMES + NUMERIC_INPUTS)), draw(st.integers(0, 40))
        return kind, lambda d: _restyle(d, name, index)
    if kind == "move_sst":
        return kind, _move_sst
    if kind == "cached":
        name, value = draw(st.sampled_from(FORMULA_NAMES)), draw(st.integers(0, 100))
        return kind, lambda d: _set_cached(d, name, value)
    if kind == "comment_in_v":
        key = draw(st.sampled_from(NUMERIC_INPUTS))
        return kind, lambda d: x.set_named(d, key, "<v>5<!-- x -->0</v>")
    key = draw(st.sampled_from(TEXT_INPUTS))  # shared_text: a text input moved into the shared-string table
    return kind, lambda d: _as_shared_string(d, key)


def _foreign_si(data: bytes, position: int) -> bytes:
    def fn(s: str) -> str:
        s = re.sub(r"<sst ", f'<sst xmlns:mc="{MC}" xmlns:q="urn:example:q" mc:Ignorable="q" ', s, count=1)
        starts = [m.start() for m in re.finditer(r"<si>", s)]
        at = starts[min(position, len(starts) - 1)]
        return s[:at] + "<q:si><q:t>否</q:t></q:si>" + s[at:]
    return x.edit_part(data, "xl/sharedStrings.xml", fn)


def _dup_cell(data: bytes, key: str, value: int) -> bytes:
    sheet, ref = x.where(data, key)
    style = x.cell_style(data, sheet, ref)
    return x.set_cell_xml(data, sheet, ref, f'<c r="{ref}"{style}><v>{value}</v></c><c r="{ref}"{style}><v>1</v></c>')


def _v_before_f(data: bytes, name: str) -> bytes:
    sheet, ref = x.where(data, name)
    formula = read_return("x.xlsx", data).formulas[(sheet, ref)][1:]
    escaped = formula.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return x.set_cell(data, sheet, ref, f"<v>1</v><f>{escaped}</f>")


def _restyle(data: bytes, name: str, index: int) -> bytes:
    sheet, ref = x.where(data, name)
    m = re.search(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', x.read_part(data, x.part_of(data, sheet)).decode(), re.S)
    cell = re.sub(r' s="\d+"', f' s="{index}"', m.group(0))
    return x.set_cell_xml(data, sheet, ref, cell)


def _move_sst(data: bytes) -> bytes:
    """The shared strings under another part name, found through the relationship: a legitimate package."""
    def edit(n: str, p: bytes) -> bytes:
        if n == "[Content_Types].xml":
            return p.replace(b"/xl/sharedStrings.xml", b"/xl/strings/table.xml")
        if n == "xl/_rels/workbook.xml.rels":
            return p.replace(b'Target="sharedStrings.xml"', b'Target="strings/table.xml"')
        return p
    sst = x.read_part(data, "xl/sharedStrings.xml")
    return x.rezip(data, edit=edit, add={"xl/strings/table.xml": sst}, drop={"xl/sharedStrings.xml"})


def _set_cached(data: bytes, name: str, value: int) -> bytes:
    sheet, ref = x.where(data, name)
    xml = x.read_part(data, x.part_of(data, sheet)).decode()
    m = re.search(rf'<c r="{ref}"[^>]*?>(<f>.*?</f>)<v>.*?</v></c>', xml, re.S)
    if m is None:
        return data
    return x.set_cell(data, sheet, ref, f"{m.group(1)}<v>{value}</v>")


def _as_shared_string(data: bytes, key: str) -> bytes:
    sst = x.read_part(data, "xl/sharedStrings.xml").decode()
    count = len(re.findall(r"<si>", sst))
    data = x.edit_part(data, "xl/sharedStrings.xml", lambda s: s.replace("</sst>", "<si><t>共享文字</t></si></sst>"))
    return x.set_named(data, key, f"<v>{count}</v>", ' t="s"')


# ---------------------------------------------------------------------------


def jixiao_named(ret) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, target in ret.names.items():
        loc = split_ref(target)
        if not loc or loc[2]:
            continue
        if name in ret.inputs:
            out[name] = ret.inputs[name]
        elif name in ret.cached or name in ret.uncached:
            out[name] = ret.cached.get(name)
        elif name.startswith("note_"):
            out[name] = ret.notes.get(name[5:])
        elif name.startswith("explain_"):
            out[name] = ret.explanations.get(name[8:])
        elif (loc[0], loc[1]) in getattr(ret, "shown", {}):
            out[name] = ret.shown[(loc[0], loc[1])]
    return out


def openpyxl_named(data: bytes) -> dict[str, object]:
    wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    out = {}
    for name, dn in wb.defined_names.items():
        dests = list(dn.destinations)
        if len(dests) != 1 or ":" in dests[0][1] or dests[0][0] not in wb.sheetnames:
            continue
        sheet, ref = dests[0]
        out[name] = wb[sheet][ref.replace("$", "")].value
    return out


def same_value(a: object, b: object) -> bool:
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(b, dt.datetime):
        b = b.date().isoformat()
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return a == b


@settings(max_examples=70, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(mutation(), min_size=1, max_size=3))
def test_readers_disagree_only_on_flagged_files(mutations):
    data = seed()
    mutations = sorted({k: m for k, m in mutations}.items(), key=lambda m: m[0] == "move_sst")  # rename last
    for _, apply in mutations:
        data = apply(data)
    v = verify(read_return("mutated.xlsx", data))
    flagged = v.rejected or v.has_errors
    try:
        theirs = openpyxl_named(data)
    except Exception:  # noqa: BLE001 - openpyxl cannot read it at all: jixiao must not call it clean
        assert flagged, [k for k, _ in mutations]
        return
    if v.rejected:
        return
    ours = jixiao_named(v.ret)
    differ = sorted(k for k in ours if k in theirs and not same_value(ours[k], theirs[k]))
    if differ:
        assert flagged, (
            [k for k, _ in mutations], [(k, ours[k], theirs[k]) for k in differ[:5]], [f.message for f in v.findings][:5])


@pytest.mark.parametrize("kind", ["move_sst", "shared_text"])
def test_legitimate_packaging_reads_alike_and_clean(kind):
    """Parts found through relationships and text moved into the shared-string table are no tampering."""
    apply = {"move_sst": _move_sst, "shared_text": lambda d: _as_shared_string(d, TEXT_INPUTS[0])}[kind]
    data = apply(seed())
    v = verify(read_return("legit.xlsx", data))
    assert not v.has_errors, [f.message for f in v.findings if f.severity == "error"][:5]
    ours, theirs = jixiao_named(v.ret), openpyxl_named(data)
    assert all(same_value(ours[k], theirs[k]) for k in ours if k in theirs)
