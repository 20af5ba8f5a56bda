"""Property-based tests: every score stays in [0, max] and the total is the sum of the indicators."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from workbook.engine import score
from workbook.template import default_template

from .conftest import seed_inputs

T = default_template()


def value_for(spec):
    blank = st.none()
    if spec.type == "yesno":
        return st.one_of(blank, st.sampled_from(["是", "否"]), st.just("也许"))
    if spec.type == "int":
        return st.one_of(blank, st.integers(-2, 200), st.floats(0, 50, allow_nan=False).map(lambda x: round(x, 1)))
    if spec.type in ("money", "rate", "score"):
        return st.one_of(blank, st.decimals(-10, 2000, places=2, allow_nan=False, allow_infinity=False).map(float),
                         st.just("abc"))
    return st.one_of(blank, st.text(max_size=20))


scoring_keys = [k for k, s in T.inputs.items() if s.section != "cover"]
inputs_strategy = st.fixed_dictionaries({k: value_for(T.inputs[k]) for k in scoring_keys})


@settings(max_examples=300, deadline=None)
@given(inputs_strategy)
def test_scores_bounded_and_total_is_sum(changes):
    report = score({**seed_inputs(), **changes})
    for r in report.indicators:
        assert Decimal(0) <= r.score <= r.max, r
        assert r.score == r.score.quantize(Decimal("0.01"))
    assert report.total == sum(r.score for r in report.indicators)
    assert report.grade == grade_by_hand(report.total)
    for f in report.findings:
        assert f.severity in ("error", "warning", "info") and f.code and f.message


def grade_by_hand(total: Decimal) -> str:
    """附件3-2: 90 分及以上为优，80（含）–90 为良，60（含）–80 为中，60 以下为差."""
    return "优" if total >= 90 else "良" if total >= 80 else "中" if total >= 60 else "差"


def test_grade_boundaries():
    for total, grade in [(100, "优"), (90, "优"), (Decimal("89.99"), "良"), (80, "良"), (Decimal("79.99"), "中"),
                         (60, "中"), (Decimal("59.99"), "差"), (0, "差")]:
        assert T.grade_for(Decimal(total)) == grade, total
