"""附件3-1 workbooks: one per project from the row plan; the formulas recalculated in LibreOffice and
Gnumeric equal the row-form engine for hand-made and generated input sets."""

from __future__ import annotations

import random
from decimal import Decimal as D
from pathlib import Path

import pytest

from workbook.excel_limits import excel_problems
from workbook.form.rowform import xiangmu_template
from workbook.form.unit import Unit
from workbook.generate.rows import RowWorkbookFactory
from workbook.rowengine import score_row_form

from .conftest import require_soffice, require_ssconvert
from .helpers import named_values

T = xiangmu_template()
UNIT = Unit("岳阳楼区就业服务中心（合成）", "200009", 2021, "区人社局",
            {"project_name": "就业技能培训项目", "project_code": "XM2021-01", "funds_current_initial": 80})
_factory: RowWorkbookFactory | None = None


def factory() -> RowWorkbookFactory:
    global _factory
    if _factory is None:
        _factory = RowWorkbookFactory(T)
    return _factory


def row(level: str, n: int, name, nature, target, actual, points, reason=None) -> dict:
    p = f"ind_{level}_{n}_"
    return {p + "name": name, p + "nature": nature, p + "target": target, p + "actual": actual,
            p + "points": points, p + "reason": reason}


def full() -> dict:
    return {"funds_current_budget": 100, "funds_current_executed": 100,
            **row("output", 1, "培训人次", "≥", 200, 200, 30), **row("output", 2, "完成时间", "≤", 12, 12, 20),
            **row("benefit", 1, "就业率", "定性", "提升", "达成", 30),
            **row("satisfaction", 1, "满意度", "≥", 90, 95, 10)}


HAND_CASES = {
    "full": full(),
    "partial": {**full(), "funds_current_executed": 85, "ind_output_1_actual": 180,
                "ind_benefit_1_actual": "基本达成"},
    "equal_row": {**full(), **row("output", 2, "达标率", "=", 50, 60, 20)},
    "zero_budget_na": {**full(), "funds_current_budget": None, "funds_current_executed": None},
    "zero_budget_bad": {**full(), "funds_current_budget": 0, "funds_current_executed": 5},
    "negative_money": {**full(), "funds_other_executed": -3},
    "text_money": {**full(), "funds_carryover_budget": "很多"},
    "missing_value": {**full(), "ind_output_2_actual": None},
    "bad_nature": {**full(), "ind_output_2_nature": "大于"},
    "bad_word": {**full(), "ind_benefit_1_actual": "差不多"},
    "points_off": {**full(), "ind_output_2_points": 15},
    "over_rate": {**full(), "funds_current_executed": 130, "funds_carryover_budget": 20,
                  "funds_carryover_executed": 0},
    "zero_target": {**full(), **row("output", 1, "新增", "≥", 0, 3, 30)},
    "at_most_zero": {**full(), **row("output", 2, "投诉", "≤", 0, 2, 20)},
    "empty": {},
    "text_points": {**full(), "ind_output_2_points": "20"},
    "padded_words": {**full(), "ind_output_1_nature": " ≥", "ind_benefit_1_actual": " 达成"},
    "over_budget": {**full(), "funds_current_executed": 130, "conclusion": "好" * 201},
    "spaces": {**full(), "funds_other_budget": "  ", **row("output", 3, " ", "≥", 1, 1, 5),
               "ind_output_2_actual": "  "},
}


def random_case(rng: random.Random) -> dict:
    d: dict = {}
    for r in T.funds.rows:
        if rng.random() < 0.7:
            b = D(rng.randint(0, 50000)) / 100
            d[T.funds.key(r.key, "budget")] = b
            d[T.funds.key(r.key, "executed")] = (b * D(rng.randint(0, 130)) / 100).quantize(D("0.01"))
    for lv in T.levels:
        for n in range(1, rng.randint(0, lv.rows) + 1):
            nature = rng.choice(["≥", "≤", "=", "定性"])
            if nature == "定性":
                target, actual = "目标", rng.choice(["达成", "基本达成", "部分达成", "未达成"])
            else:
                target = rng.choice([0, rng.randint(1, 500), D(rng.randint(1, 99999)) / 100])
                actual = rng.choice([0, rng.randint(0, 700), D(rng.randint(0, 99999)) / 100])
            d.update(row(lv.id, n, f"指标{n}", nature, target, actual, rng.randint(0, 20),
                         rng.choice([None, "原因"])))
    return d


CASES = {**HAND_CASES, **{f"random_{i}": random_case(random.Random(i)) for i in range(25)}}


def expected(inputs: dict) -> dict:
    rep = score_row_form(T, {**UNIT.identity(), **UNIT.prefill, **inputs})
    incomplete = rep.audit["complete"] == "未完成"  # the form is not filled in: no total, no grade
    out = {"total_score": "未完成" if incomplete else rep.total, "grade": "未完成" if incomplete else rep.grade,
           "total_uncapped": rep.computed["total_uncapped"],
           "funds_rate": rep.computed.get("funds_rate", "")}
    out.update({f"subtotal_{lv.id}": rep.subtotals[lv.id] for lv in T.levels})
    out.update({f"funds_total_{c.key}": rep.computed[f"funds_total_{c.key}"] for c in T.funds.columns})
    shown = {r.id: r.display for r in rep.indicators}
    out["score_funds"] = shown["funds"]
    for lv in T.levels:
        for rid in lv.row_ids():
            out[f"score_{rid}"] = shown.get(rid, "")
    out.update({f"audit_{k}": v for k, v in rep.audit.items()})
    return out


def same(a, b) -> bool:
    if isinstance(b, D):
        return isinstance(a, int | float) and not isinstance(a, bool) and abs(D(str(a)) - b) < D("0.005")
    return (a if a is not None else "") == b


def mismatches(path: Path, inputs: dict) -> list[str]:
    """Named formula cells against the engine, then every shown 审核 cell (status and message) as the
    verifier compares it (score_mismatch)."""
    got = named_values(path)
    out = [f"{k}: 工作簿 {got.get(k)!r}，引擎 {v!r}" for k, v in expected(inputs).items() if not same(got.get(k), v)]
    from workbook.read import read_return
    from workbook.verify import verify

    v = verify(read_return(path))
    return out + [f.message for f in v.findings if f.code in ("score_mismatch", "formula_tampered")]


def write_cases(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {name: factory().write(folder / f"{name}.xlsx", UNIT, inputs) for name, inputs in CASES.items()}


def test_workbook_names_every_row_input_and_is_excel_clean(tmp_path):
    data = factory().build(UNIT, full())
    assert not excel_problems(data)
    names = factory().plan.names
    for key in ("ind_output_3_target", "ind_output_12_reason", "ind_satisfaction_3_points", "funds_current_budget",
                "project_name", "project_code", "score_ind_benefit_8", "subtotal_output", "total_score", "grade"):
        assert key in names, key
    assert "ind_output_13_name" not in names


def test_cached_values_are_the_engines(tmp_path):
    paths = write_cases(tmp_path)
    bad = {name: mismatches(p, CASES[name]) for name, p in paths.items()}
    assert not any(bad.values()), {k: v for k, v in bad.items() if v}


def _recalculated(tmp_path: Path, recalc) -> None:
    paths = write_cases(tmp_path / "in")
    out = recalc(list(paths.values()), tmp_path / "out")
    by_name = {p.stem: p for p in out}
    bad = {name: mismatches(by_name[name], CASES[name]) for name in CASES}
    assert not any(bad.values()), {k: v for k, v in bad.items() if v}


def test_libreoffice_recalculation_equals_the_engine(tmp_path):
    require_soffice()
    from workbook.libreoffice import recalculate

    _recalculated(tmp_path, recalculate)


def test_gnumeric_recalculation_equals_the_engine(tmp_path):
    require_ssconvert()
    from workbook.gnumeric import recalculate

    _recalculated(tmp_path, recalculate)


@pytest.mark.parametrize("name", ["partial", "points_off"])
def test_identity_is_in_the_workbook(tmp_path, name):
    p = factory().write(tmp_path / "x.xlsx", UNIT, CASES[name])
    got = named_values(p)
    assert got["project_name"] == "就业技能培训项目" and got["jx_project_code"] == "XM2021-01"
    assert got["funds_current_initial"] == 80


# -- hypothesis-generated input sets, many workbooks per LibreOffice / Gnumeric call ------------------

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CENTS = st.integers(0, 10_000_000).map(lambda n: D(n) / 100)
MONEY = st.one_of(st.none(), CENTS, st.just(0), st.integers(-500, -1), st.just("  "), st.just("很多"), st.just("100"))
# A tab or an ideographic space is text to Excel's and LibreOffice's TRIM (and to the engine); Gnumeric's TRIM
# strips every Unicode space, so those values are drawn only for the programs that agree with Excel.
ODD_SPACES = ["\u3000", "\t"]
NUMBER = st.one_of(st.just(0), st.integers(0, 1000), st.integers(1, 99_999).map(lambda n: D(n) / 100))
WORDS = ["达成", "基本达成", "部分达成", "未达成"]
CJK = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=0, max_size=230)


@st.composite
def level_rows(draw, lv, odd: bool) -> dict:
    d: dict = {}
    n = draw(st.integers(0, lv.rows))
    exact = draw(st.booleans())  # 分值 splitting the level's points exactly (level_points passes)
    cuts = sorted(draw(st.lists(st.integers(0, int(lv.points) * 100), min_size=max(n - 1, 0),
                                max_size=max(n - 1, 0))))
    shares = [D(b - a) / 100 for a, b in zip([0, *cuts], [*cuts, int(lv.points) * 100], strict=True)]
    for i in range(1, n + 1):
        nature = draw(st.sampled_from(["≥", "≥", "≤", "=", "定性", "大于", None, " ≥"]))
        if nature == "定性":
            target, actual = "目标", draw(st.sampled_from([*WORDS, "差不多", None, " 达成"]))
        else:
            target = draw(st.one_of(NUMBER, st.none(), st.just("文字")))
            actual = draw(st.one_of(NUMBER, st.none(), st.just("  ")))
        points = shares[i - 1] if exact else draw(st.one_of(NUMBER, st.none(), st.just(-5), st.just("五"),
                                                             st.just("5")))
        name = draw(st.sampled_from([f"指标{i}", f"指标{i}", f"指标{i}", "  ", None, 123, *(ODD_SPACES if odd else [])]))
        d.update(row(lv.id, i, name, nature, target, actual, points, draw(st.sampled_from([None, "原因", " "]))))
    return d


@st.composite
def input_sets(draw, odd: bool = True) -> dict:
    d: dict = {}
    money = st.one_of(MONEY, st.sampled_from(ODD_SPACES)) if odd else MONEY
    for r in T.funds.rows:
        for c in T.funds.columns:
            d[T.funds.key(r.key, c.key)] = draw(money)
    if draw(st.booleans()):  # a plausible execution near the budget (rates around 90 % and 100 %)
        b = draw(CENTS.filter(lambda x: x > 0))
        d["funds_current_budget"], d["funds_current_executed"] = b, (b * draw(st.integers(50, 130)) / 100).quantize(
            D("0.01"))
    d[T.funds.reason_key] = draw(st.sampled_from([None, "原因", "  ", *(ODD_SPACES if odd else [])]))
    for lv in T.levels:
        d.update(draw(level_rows(lv, odd)))
    for fld in T.texts:
        d[fld.key] = draw(st.one_of(st.none(), CJK, st.just("字" * 201), st.just("字" * 200)))
    return d


def hypothesis_cases(n: int, odd: bool = True) -> dict[str, dict]:
    """n input sets drawn by hypothesis (collected, then written and recalculated in one batch)."""
    found: list[dict] = []

    @settings(max_examples=n, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(input_sets(odd))
    def collect(d: dict) -> None:
        found.append(d)

    collect()
    return {f"hyp_{i}": d for i, d in enumerate(found)}


def _recalculated_batch(tmp_path: Path, recalc, cases: dict[str, dict]) -> None:
    (tmp_path / "in").mkdir()
    paths = [factory().write(tmp_path / "in" / f"{name}.xlsx", UNIT, inputs) for name, inputs in cases.items()]
    out = {p.stem: p for p in recalc(paths, tmp_path / "out")}
    bad = {name: (mismatches(out[name], cases[name]), cases[name]) for name in cases}
    bad = {k: v for k, v in bad.items() if v[0]}
    assert not bad, bad


def test_hypothesis_input_sets_cached_equal_the_engine(tmp_path):
    """Without any spreadsheet program: the cached values and the 审核 sheet of 200 drawn input sets."""
    for name, inputs in hypothesis_cases(200).items():
        p = factory().write(tmp_path / f"{name}.xlsx", UNIT, inputs)
        assert not mismatches(p, inputs), (name, inputs)


def test_hypothesis_input_sets_in_libreoffice_equal_the_engine(tmp_path):
    require_soffice()
    from workbook.libreoffice import recalculate

    _recalculated_batch(tmp_path, recalculate, hypothesis_cases(60))


def test_hypothesis_input_sets_in_gnumeric_equal_the_engine(tmp_path):
    require_ssconvert()
    from workbook.gnumeric import recalculate

    _recalculated_batch(tmp_path, recalculate, hypothesis_cases(30, odd=False))
