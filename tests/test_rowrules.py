"""附件3-1 rule kinds: funds execution rate and unit-written indicator rows, against hand-computed values,
and the Excel formulas against Python in LibreOffice and Gnumeric."""

from __future__ import annotations

import random
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook.gnumeric import recalculate as gnumeric_recalculate
from workbook.libreoffice import recalculate
from workbook.rowrules import (
    PROVINCIAL_CAPS,
    RowInput,
    RowRuleParams,
    capped_total,
    funds_formula,
    funds_score,
    level_points_finding,
    row_formula,
    score_row,
    text_too_long,
)

from .conftest import require_soffice, require_ssconvert


def codes(outcome) -> list[str]:
    return [f.code for f in outcome.findings]


# -- funds ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("budget", "executed", "rate", "score"), [
    (100, 100, D("100.00"), D("10.00")),
    (100, 120, D("120.00"), D("10.00")),       # over-execution is capped at 100 %
    (100, 95, D("95.00"), D("9.50")),
    (300, 200, D("66.67"), D("6.67")),         # the rounded rate scores: 66.67 % × 10
    (3, 2.0005, D("66.68"), D("6.67")),        # 66.6833… → 66.68 %, 6.668 → 6.67
    (1000, 899.95, D("90.00"), D("9.00")),     # 89.995 % rounds up to 90.00: no reason needed
    (1000, 899.94, D("89.99"), D("9.00")),     # 8.999 → 9.00 points, but the rate is below 90
    (80, 0, D("0.00"), D("0.00")),
])
def test_funds_score_at_and_around_the_edges(budget, executed, rate, score):
    out = funds_score(budget, executed, reason="已说明")
    assert (out.rate, out.score, out.status) == (rate, score, "ok")
    assert out.findings == []


def test_funds_reason_required_below_90_percent_of_the_rounded_rate():
    assert codes(funds_score(1000, 899.95)) == []
    assert codes(funds_score(1000, 899.94)) == ["note_missing"]
    assert codes(funds_score(1000, 899.94, reason="项目延期")) == []


def test_funds_zero_budget_cases():
    na = funds_score(0, 0)
    assert (na.status, na.score, na.rate, codes(na)) == ("not_applicable", D(10), None, ["not_applicable"])
    assert funds_score(None, None).status == "not_applicable"  # blank money is 0
    bad = funds_score(0, 5)
    assert (bad.status, bad.score, bad.rate, codes(bad)) == ("invalid", D(0), None, ["invalid_input"])
    assert funds_score(-1, 5).status == "invalid" and funds_score(10, "abc").status == "invalid"


def test_total_cap_option():
    on = RowRuleParams(cap_bands=PROVINCIAL_CAPS)
    assert capped_total(D("95"), D("80.00"), on) == D("95")       # ≥ 80 %: no cap
    assert capped_total(D("95"), D("79.99"), on) == D("89")
    assert capped_total(D("85"), D("70.00"), on) == D("85")       # under the cap already
    assert capped_total(D("95"), D("60.00"), on) == D("79")
    assert capped_total(D("95"), D("50.00"), on) == D("69")
    assert capped_total(D("95"), D("49.99"), on) == D("59")
    assert capped_total(D("95"), None, on) == D("95")             # no rate, no cap
    assert capped_total(D("95"), D("10"), RowRuleParams()) == D("95")  # off by default


# -- indicator rows ---------------------------------------------------------------------------------

def row(nature, target, actual, points=10, reason=None, name="指标"):
    return RowInput(name=name, nature=nature, target=target, unit="个", actual=actual, points=points, reason=reason)


@pytest.mark.parametrize(("nature", "target", "actual", "points", "score"), [
    ("≥", 100, 100, 10, D("10.00")),
    ("≥", 100, 99, 10, D("9.90")),
    ("≥", 3, 2, 10, D("6.67")),       # 6.666… → 6.67
    ("≥", 8, 1, 5, D("0.63")),        # 0.625 → 0.63 (half away from zero)
    ("≥", 100, 0, 10, D("0.00")),
    ("≥", 0, 0, 10, D("10.00")),      # zero target: 分值 when 完成值 ≥ 0
    ("≤", 10, 10, 10, D("10.00")),
    ("≤", 10, 12.5, 10, D("8.00")),   # 10 × 10/12.5
    ("≤", 0, 0, 10, D("10.00")),
    ("≤", 0, 3, 10, D("0.00")),       # ≤ 0 with 完成值 3 scores 0
    ("=", 100, 100, 10, D("10.00")),
    ("=", 100, 90, 10, D("9.00")),
    ("=", 100, 110, 10, D("9.00")),
    ("=", 100, 250, 10, D("0.00")),   # floored at 0
    ("=", 0, 5, 10, D("10.00")),
    ("定性", "全面完成", "达成", 10, D("10.00")),
    ("定性", "全面完成", "基本达成", 10, D("8.00")),
    ("定性", "全面完成", "部分达成", 5, D("3.00")),
    ("定性", "全面完成", "未达成", 5, D("0.00")),
    ("定性", "全面完成", "部分达成", 2.5, D("1.50")),
])
def test_row_scores(nature, target, actual, points, score):
    out = score_row(row(nature, target, actual, points, reason="原因"))
    assert (out.status, out.score) == ("ok", score)


def test_row_findings():
    assert codes(score_row(row("≥", 100, 99))) == ["note_missing"]
    assert codes(score_row(row("≥", 100, 99, reason="天气"))) == []
    assert codes(score_row(row("≥", 0, 5, reason="x"))) == ["zero_base"]
    assert codes(score_row(row("=", 0, 5, reason="x"))) == ["zero_base"]
    assert codes(score_row(row("≤", 0, 5, reason="x"))) == []
    # deviation: ROUND(100 × (完成值 − 指标值)/指标值, 2) ≥ 30 on a ≥ row
    assert codes(score_row(row("≥", 100, 130))) == ["target_deviation"]
    assert codes(score_row(row("≥", 100, 129.99))) == []
    assert codes(score_row(row("≥", 3, 3.9))) == ["target_deviation"]  # 30.00 %
    assert codes(score_row(row("≤", 100, 30, reason="x"))) == []
    # a filled reason does not remove the deviation warning
    assert codes(score_row(row("≥", 100, 200, reason="超额"))) == ["target_deviation"]


def test_deviation_deduction_option():
    p = RowRuleParams(deviation_deduction=D(2))
    out = score_row(row("≥", 100, 130, points=10, reason="x"), p)
    assert out.score == D("8.00") and codes(out) == ["target_deviation"]
    small = score_row(row("≥", 100, 200, points=1.5, reason="x"), p)
    assert small.score == D("0.00")  # floored at 0


def test_unused_missing_and_invalid_rows():
    assert score_row(RowInput(nature="≥", target=1, actual=1, points=5)).status == "unused"  # no 三级指标
    m = score_row(RowInput(name="x", nature="≥", target=None, actual=1, points=5))
    assert (m.status, m.score, codes(m)) == ("missing", D(0), ["missing_input"]) and "年度指标值" in m.basis
    for bad in (row("大于", 1, 1), row("≥", "十", 1), row("≥", 1, 1, points=-1), row("≥", 1, 1, points="五"),
                row("定性", "好", "很好")):
        out = score_row(bad)
        assert (out.status, out.score, codes(out)) == ("invalid", D(0), ["invalid_input"]), bad
    assert score_row(row("定性", "任意文字，不解读", "达成")).status == "ok"


def test_level_points_must_add_up():
    rows = [score_row(row("≥", 1, 1, points=p, reason="x")) for p in (20, 20, 10)]
    assert level_points_finding(rows, D(50), "产出指标") is None
    rows.append(score_row(RowInput(nature="≥", points=99)))  # unused: its 分值 does not count
    assert level_points_finding(rows, D(50), "产出指标") is None
    rows.append(score_row(row("≥", 1, 1, points=5)))
    f = level_points_finding(rows, D(50), "产出指标")
    assert f is not None and f.code == "invalid_input" and "55" in f.message and "50" in f.message


def test_text_limit_counts_code_points():
    assert text_too_long("字" * 200, "评价结论") is None
    f = text_too_long("字" * 201, "评价结论")
    assert f is not None and f.code == "text_too_long" and "201" in f.message


# -- the formulas in real spreadsheet programs -------------------------------------------------------

NATURES = ["≥", "≤", "=", "定性", "大于", None]
WORDS = ["达成", "基本达成", "部分达成", "未达成", "很好"]


def random_rows(n: int, seed: int) -> list[RowInput]:
    rnd = random.Random(seed)

    def number():
        return rnd.choice([0, 1, 3, 8, 10, 12.5, 99, 100, 100.5, 129.99, 130, 250, 2.675, -5, None, "十"])

    rows = []
    for _ in range(n):
        nature = rnd.choice(NATURES)
        actual = rnd.choice(WORDS) if nature == "定性" and rnd.random() < 0.8 else number()
        rows.append(RowInput(name=rnd.choice(["指标", None]) if rnd.random() < 0.2 else "指标", nature=nature,
                             target=number() if nature != "定性" else rnd.choice(["全面完成", None]),
                             actual=actual, points=rnd.choice([10, 5, 2.5, 1.5, 0, -1, None, "五"])))
    return rows


def put(ws, row: int, col: int, value) -> None:
    if isinstance(value, str):
        ws.write_string(row, col, value)  # never write(): "=" would become a formula
    elif value is not None:
        ws.write_number(row, col, value)


def rows_workbook(path: Path, rows: list[RowInput], funds: list[tuple], p: RowRuleParams) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("rows")
    for i, r in enumerate(rows):
        for j, (field_name, value) in enumerate((("name", r.name), ("nature", r.nature), ("target", r.target),
                                                  ("actual", r.actual), ("points", r.points))):
            put(ws, i, j, value)
            wb.define_name(f"r{i}_{field_name}", f"=rows!${chr(65 + j)}${i + 1}")
        ws.write_formula(i, 6, row_formula(f"r{i}_name", f"r{i}_nature", f"r{i}_target", f"r{i}_actual",
                                           f"r{i}_points", p), None, "")
    fs = wb.add_worksheet("funds")
    for i, (budget, executed) in enumerate(funds):
        for j, value in enumerate((budget, executed)):
            put(fs, i, j, value)
        wb.define_name(f"f{i}_b", f"=funds!$A${i + 1}")
        wb.define_name(f"f{i}_e", f"=funds!$B${i + 1}")
        fs.write_formula(i, 3, funds_formula(f"f{i}_b", f"f{i}_e", p), None, "")
    wb.close()


def expected_row(r: RowInput, p: RowRuleParams):
    out = score_row(r, p)
    return {"unused": None, "missing": "未填", "invalid": "无效"}.get(out.status, out.score)


def expected_funds(budget, executed, p: RowRuleParams):
    out = funds_score(budget, executed, "x", p)
    return "无效" if out.status == "invalid" else out.score


def shown(path: Path) -> tuple[list, list]:
    wb = openpyxl.load_workbook(path, data_only=True)
    rows = [wb["rows"].cell(i + 1, 7).value for i in range(wb["rows"].max_row)]
    funds = [wb["funds"].cell(i + 1, 4).value for i in range(wb["funds"].max_row)]
    return rows, funds


def same(actual, expected) -> bool:
    if expected is None:
        return actual in (None, "")
    if isinstance(expected, D):
        return isinstance(actual, (int, float)) and D(repr(float(actual))).quantize(D("0.01")) == expected
    return actual == expected


FUNDS = [(100, 95), (300, 200), (0, 0), (0, 5), (None, None), (1000, 899.95), (3, 2.0005), (-1, 1), ("x", 1),
         (100, 120), (8, 1)]


def _agree(path: Path, rows: list[RowInput], p: RowRuleParams) -> list[str]:
    got_rows, got_funds = shown(path)
    bad = [f"row {i} {r}: sheet {g!r} != python {expected_row(r, p)!r}"
           for i, (r, g) in enumerate(zip(rows, got_rows, strict=True)) if not same(g, expected_row(r, p))]
    bad += [f"funds {f}: sheet {g!r} != python {expected_funds(*f, p)!r}"
            for f, g in zip(FUNDS, got_funds, strict=True) if not same(g, expected_funds(*f, p))]
    return bad


@pytest.mark.parametrize("params", [RowRuleParams(), RowRuleParams(deviation_deduction=D(2))],
                         ids=["default", "deviation-deduction"])
def test_formulas_agree_with_python_in_libreoffice(tmp_path, params):
    require_soffice()
    rows = random_rows(300, seed=7)
    src = tmp_path / "rows.xlsx"
    rows_workbook(src, rows, FUNDS, params)
    (out,) = recalculate([src], tmp_path / "lo")
    assert _agree(out, rows, params) == []


def test_formulas_agree_with_python_in_gnumeric(tmp_path):
    require_ssconvert()
    rows = random_rows(300, seed=11)
    src = tmp_path / "rows.xlsx"
    rows_workbook(src, rows, FUNDS, RowRuleParams())
    (out,) = gnumeric_recalculate([src], tmp_path / "gnumeric")
    assert _agree(out, rows, RowRuleParams()) == []


_numbers = st.one_of(st.none(), st.integers(-10, 1000), st.decimals(-10, 1000, places=3).map(float), st.just("十"))


@settings(max_examples=400, deadline=None)
@given(nature=st.sampled_from(NATURES), target=_numbers, actual=st.one_of(_numbers, st.sampled_from(WORDS)),
       points=_numbers, reason=st.sampled_from([None, "", "原因"]))
def test_row_score_properties(nature, target, actual, points, reason):
    out = score_row(RowInput("指标", nature, target, None, actual, points, reason))
    if out.status != "ok":
        assert out.score == 0 and [f.severity for f in out.findings] == ["error"]
        return
    # clamped to [0, 分值] and then rounded: a 分值 with more than 2 decimals may round up past itself
    assert 0 <= out.score <= out.points.quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert out.score == out.score.quantize(D("0.01"))
    assert ("note_missing" in codes(out)) == (out.score < out.points and not reason)


def test_a_missing_row_keeps_its_filled_points_for_the_level_sum():
    m = score_row(RowInput(name="x", nature="≥", target=None, actual=1, points=5))
    assert m.status == "missing" and m.score == 0 and m.points == D(5)
    assert level_points_finding([m, score_row(row("≥", 1, 1, points=45))], D(50), "产出指标") is None
