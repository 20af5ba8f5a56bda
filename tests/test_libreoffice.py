"""The workbook in a real spreadsheet program: LibreOffice recalculates, and must agree with the engine.

Each case types raw inputs into a freshly generated workbook (leaving the cached
values stale), recalculates it headless in LibreOffice, and compares every named
score, subtotal, total, grade, computed value and live 审核 row with the Python engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings

from workbook.fill import fill_return
from workbook.libreoffice import recalculate

from .conftest import require_soffice, seed_inputs
from .helpers import SEED_UNIT, expected_named, factory, mismatches, named_values, unit_values
from .test_properties import inputs_strategy

pytestmark = pytest.mark.libreoffice

EDGE_CASES: list[dict] = [
    {},
    {"staff_quota": 39},
    {"staff_actual": 31, "staff_quota": 30},
    {"staff_actual": 10101, "staff_quota": 10000},
    {"budget_add": 30.03, "budget_initial": 100.1},
    {"budget_add": 10, "budget_initial": 100},
    {"budget_add": 10.01, "budget_initial": 100},
    {"budget_add": 20.01, "budget_initial": 100, "budget_exempt": 0.02},
    {"budget_add": 5, "budget_cut": 3, "budget_exempt": 9, "budget_initial": 100},
    {"budget_initial": 0},
    {"key_spend": 90, "exp_project": 100},
    {"key_spend": 89.99, "exp_project": 100},
    {"key_spend": 59.99, "exp_project": 100, "note_key_spend_rate": "重点项目少"},
    {"satisfaction_rate": 95}, {"satisfaction_rate": 94.99}, {"satisfaction_rate": 74.99},
    {"sangong_budget": 10.5, "sangong_prior_budget": 10},
    {"sangong_budget": 3, "sangong_prior_budget": 0, "sangong_reception": 1},
    {"sangong_budget": 0, "sangong_reception": 0.5},
    {"sangong_budget": 10, "sangong_reception": 10.5, "explain_zero_sangong_control": "说明"},
    {"late_fund_count": 1}, {"late_fund_count": 7}, {"late_fund_count": 1.5},
    {"compliance_violations": 2, "asset_violations": 5},
    {"rules_lawful": "否", "info_true": "否", "asset_rules_exist": "否"},
    {"procure_actual": 95, "procure_budget": 100}, {"procure_actual": 110, "procure_budget": 100},
    {"card_paid": 49, "card_eligible": 100}, {"card_paid": 12.34, "card_eligible": 56.78},
    {"assets_in_use": 90, "assets_leased": 10}, {"assets_in_use": None},
    {"income_carryover": 10, "balance_accumulated": 10}, {"income_carryover": 10, "balance_accumulated": 10.01},
    {"balance_current": -3.5, "balance_accumulated": 0},
    {"duty_xiaokang": 9, "benefit_score": -1}, {"benefit_score": "十五"}, {"duty_other": 3.75},
    {"staff_quota": None, "card_paid": None, "rules_exist": None},
    {"staff_quota": 0}, {"exp_personnel": -1}, {"satisfaction_rate": 101},
    {"rules_exist": "也许"},
]


def optional_blank_cases() -> list[dict]:
    """Every blank-as-zero amount left blank, one at a time and all at once (the input prompt allows it)."""
    from workbook.template import default_template

    keys = [k for k, spec in default_template().inputs.items() if spec.blank_zero]
    return [{k: None} for k in keys] + [dict.fromkeys(keys)]


def engine_cases() -> list[dict]:
    """The input sets every spreadsheet engine must score exactly as the Python engine does."""
    return [{**seed_inputs(), **c} for c in EDGE_CASES + optional_blank_cases() + collect_hypothesis_cases(40)]


def collect_hypothesis_cases(n: int) -> list[dict]:
    cases: list[dict] = []

    @settings(max_examples=n, database=None, derandomize=True)
    @given(inputs_strategy)
    def collect(changes):
        cases.append(changes)

    collect()
    return cases


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    require_soffice()
    work = tmp_path_factory.mktemp("lo")
    cases = engine_cases()
    blank = factory().build(SEED_UNIT)
    files = []
    for i, inputs in enumerate(cases):
        p = work / f"case{i:03d}.xlsx"
        p.write_bytes(fill_return(blank, unit_values(inputs)))
        files.append(p)
    outs = recalculate(files, work / "out")
    return list(zip(cases, files, outs, strict=True))


def test_stale_cache_before_recalculation(recalculated):
    """The filled files really are stale: otherwise agreement below would prove nothing."""
    stale = sum(1 for inputs, before, _ in recalculated
                if mismatches(named_values(before), expected_named(inputs)))
    assert stale >= len(recalculated) // 2


def test_libreoffice_agrees_with_engine(recalculated):
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


def test_text_rows_say_checked_by_bureau(recalculated):
    _, _, after = recalculated[0]
    actual = named_values(Path(after))
    assert actual["audit_text_staff_quota"] == "—"


def test_libreoffice_saved_seed_verifies_clean(recalculated):
    """Re-saved by LibreOffice (formulas re-serialised, structure lock dropped, very-hidden → hidden): not tampering."""
    from workbook.read import read_return
    from workbook.verify import verify

    inputs, _, after = recalculated[0]
    assert inputs == seed_inputs()
    ret = read_return(after)
    assert ret.structure_locked is False  # LibreOffice drops the workbook-structure lock
    v = verify(ret)
    assert {f.code for f in v.findings if f.severity == "error"} == set(), v.findings[:5]
    assert v.report.total == 100 and v.report.grade == "优" and v.cached_total == 100


def test_libreoffice_saved_then_edited_without_recalculation(recalculated):
    from workbook.read import read_return
    from workbook.verify import verify

    _, _, after = recalculated[0]
    data = fill_return(Path(after).read_bytes(), {"staff_quota": 39})
    v = verify(read_return(Path(after).with_name("edited.xlsx"), data))
    assert v.report.total == 95 and v.cached_total == 100
    assert "score_mismatch" in v.codes()
    assert {f.code for f in v.findings if f.severity == "error"} == {"score_mismatch"}


def test_every_recalculated_case_verifies_without_integrity_errors(recalculated):
    from workbook.read import read_return
    from workbook.verify import verify

    integrity = {"formula_tampered", "template_modified", "score_mismatch", "template_unknown", "file_rejected"}
    bad = []
    for _, _, after in recalculated:
        v = verify(read_return(after))
        codes = {f.code for f in v.findings} & integrity
        if codes:
            bad.append((Path(after).name, [f.message for f in v.findings if f.code in integrity][:3]))
    assert not bad, bad[:5]


@pytest.fixture(scope="module")
def generated_and_recalculated(tmp_path_factory):
    """Workbooks generated with inputs (cached values from the engine), then recalculated by LibreOffice."""
    require_soffice()
    work = tmp_path_factory.mktemp("cached")
    cases = [seed_inputs(), {**seed_inputs(), "staff_quota": 39, "late_fund_count": 3, "card_paid": None},
             {**seed_inputs(), "balance_accumulated": 5, "assets_leased": 2, "benefit_score": 20,
              "sangong_budget": 0, "sangong_reception": 1.5, "explain_balance_accumulated": "说明"}]
    files = []
    for i, inputs in enumerate(cases):
        p = work / f"gen{i}.xlsx"
        factory().write(p, SEED_UNIT, unit_values(inputs))
        files.append(p)
    return list(zip(files, recalculate(files, work / "out"), strict=True))


def test_every_cached_value_equals_libreoffice(generated_and_recalculated):
    """Not only the named scores: echo cells, 审核 statuses and messages carry the right cached values."""
    import openpyxl

    from .helpers import same

    problems = []
    for before, after in generated_and_recalculated:
        formulas = openpyxl.load_workbook(before)
        cached = openpyxl.load_workbook(before, data_only=True)
        recalculated = openpyxl.load_workbook(after, data_only=True)
        n = 0
        for ws in formulas.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value.startswith("="):
                        n += 1
                        want = recalculated[ws.title][cell.coordinate].value
                        got = cached[ws.title][cell.coordinate].value
                        ok = (same(got, __import__("decimal").Decimal(repr(float(want))))
                              if isinstance(want, (int, float)) and not isinstance(want, bool)
                              else (got or "") == (want or ""))
                        if not ok:
                            problems.append(f"{before.name} {ws.title}!{cell.coordinate}: cached {got!r}, LibreOffice {want!r}")
        assert n > 100
    assert not problems, "\n".join(problems[:15])
