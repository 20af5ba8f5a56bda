"""The workbook in a second spreadsheet engine: Gnumeric recalculates, and must agree with the engine.

Same input sets as the LibreOffice test (edge cases, optional amounts left blank,
property-based cases); every named score, subtotal, total, grade, computed value and
live 审核 row must equal the Python engine.  A Gnumeric-saved return verifies clean.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbook.fill import fill_return
from workbook.gnumeric import recalculate

from .conftest import require_ssconvert, seed_inputs
from .helpers import SEED_UNIT, expected_named, factory, mismatches, named_values, unit_values
from .test_libreoffice import engine_cases

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    require_ssconvert()
    work = tmp_path_factory.mktemp("gnumeric")
    cases = engine_cases()
    blank = factory().build(SEED_UNIT)
    files = []
    for i, inputs in enumerate(cases):
        p = work / f"case{i:03d}.xlsx"
        p.write_bytes(fill_return(blank, unit_values(inputs)))
        files.append(p)
    outs = recalculate(files, work / "out")
    return list(zip(cases, files, outs, strict=True))


def test_gnumeric_agrees_with_engine(recalculated):
    failures = []
    for inputs, _, after in recalculated:
        actual = named_values(Path(after))
        expected = expected_named(inputs)
        skip = {k for k in expected if k.startswith("audit_text_")}  # report text: checked by the reader only
        bad = mismatches(actual, expected, skip)
        if bad:
            changed = {k: v for k, v in inputs.items() if seed_inputs().get(k) != v}
            failures.append(f"{changed}: {bad[:5]}")
    assert not failures, "\n".join(failures[:10])


def test_optional_amount_blank_still_scores(recalculated):
    """The Gnumeric #NUM! of N(blank): an optional amount left blank must not poison the total."""
    all_blank = [after for inputs, _, after in recalculated
                 if inputs.get("income_other", 0) is None and inputs.get("assets_other", 0) is None]
    assert all_blank
    values = named_values(Path(all_blank[0]))
    assert isinstance(values["total_score"], (int, float)), values["total_score"]
    assert values["grade"] in ("优", "良", "中", "差")


def test_gnumeric_saved_correct_return_verifies_without_error(recalculated):
    from workbook.read import read_return
    from workbook.verify import verify

    inputs, _, after = recalculated[0]
    v = verify(read_return(after))
    assert v.report is not None, v.findings
    errors = [f for f in v.findings if f.severity == "error"]
    assert not errors, errors[:5]
    assert v.report.total == 100
