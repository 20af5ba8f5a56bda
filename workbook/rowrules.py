"""Rule kinds for forms whose indicators are rows the unit writes itself (附件3-1 项目支出绩效自评表).

Two kinds, each with its Python score and its Excel formula side by side, as in rules.py:

- `FundsRate`: a funds table's execution rate (执行率 = ROUND(100 × 执行数 / 全年预算数, 2)) scored
  as MIN(rate, 100 %) × points, with the zero-budget cases of form-3-1.md (not applicable / error).
- `IndicatorRow`: one unit-written indicator row (三级指标, 指标性质, 年度指标值, 实际完成值, 分值)
  scored by its nature: ≥ (正向), ≤ (反向), = (等于) or 定性 (a grade word → a share of 分值).

Every word, share, threshold and option is a parameter (`RowRuleParams`), so a province whose
practice differs changes the template, not this code.  The scores follow form-3-1.md's pinned
defaults: rates are rounded before any comparison; a row's score is clamped to [0, 分值] and then
rounded; a row with a blank or wrong value scores 0 and raises only that finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .numbers import HUNDRED, ZERO, excel_number, fmt, fmt_points, q2, to_decimal
from .rules import RuleFinding


def blank(value: Any) -> bool:
    """Blank as the workbook's TRIM(x)="" sees it: None, or a text of ASCII spaces only (a tab, a line break
    or an ideographic space is text, as in every spreadsheet program)."""
    return value is None or (isinstance(value, str) and value.strip(" ") == "")


AT_LEAST, AT_MOST, EQUAL, QUALITATIVE = "at_least", "at_most", "equal", "qualitative"


@dataclass(frozen=True)
class RowRuleParams:
    """The parameters of the row and funds rules (template options; defaults from form-3-1.md)."""

    natures: Mapping[str, str] = field(default_factory=lambda: {
        "≥": AT_LEAST, "≤": AT_MOST, "=": EQUAL, "定性": QUALITATIVE})
    qualitative_shares: Mapping[str, Decimal] = field(default_factory=lambda: {
        "达成": Decimal(1), "基本达成": Decimal("0.8"), "部分达成": Decimal("0.6"), "未达成": ZERO})
    deviation_pct: Decimal = Decimal(30)  # 完成值 above a ≥ target by this many percent: target_deviation
    deviation_deduction: Decimal | None = None  # points off the row's score (None: warning only)
    funds_points: Decimal = Decimal(10)
    reason_below_pct: Decimal = Decimal(90)  # an execution rate below this needs a reason
    # total caps by execution rate: (lower edge %, inclusive; cap or None for no cap); off when empty
    cap_bands: tuple[tuple[Decimal, Decimal | None], ...] = ()
    text_limit: int = 200


def _number(value: Any) -> Decimal | None:
    """A typed number, or None when the value is not one (text, bool; a text "5" too: ISNUMBER is false)."""
    if isinstance(value, bool) or blank(value) or isinstance(value, str):
        return None
    try:
        return to_decimal(value)
    except TypeError:
        return None


# -- funds ------------------------------------------------------------------------------------------

@dataclass
class FundsOutcome:
    score: Decimal
    rate: Decimal | None  # None: no rate (budget 0)
    basis: str
    status: str = "ok"  # ok | invalid | not_applicable
    findings: list[RuleFinding] = field(default_factory=list)


def execution_rate(budget: Decimal, executed: Decimal) -> Decimal | None:
    """ROUND(100 × executed / budget, 2), or None when the budget is 0."""
    return None if budget == 0 else q2(HUNDRED * executed / budget)


def funds_score(budget: Any, executed: Any, reason: Any = None, p: RowRuleParams | None = None) -> FundsOutcome:
    """The funds score of a 年度资金总额 row (blank money counts as 0)."""
    p = p or RowRuleParams()
    b, e = _number(budget) if not blank(budget) else ZERO, _number(executed) if not blank(executed) else ZERO
    if b is None or e is None or b < 0 or e < 0:
        return FundsOutcome(ZERO, None, "资金数据无效", "invalid",
                            [RuleFinding("error", "invalid_input", "全年预算数和全年执行数应为不小于 0 的金额")])
    if b == 0:
        if e == 0:
            return FundsOutcome(p.funds_points, None, "全年预算数为 0 且无执行数，不适用，按满分计", "not_applicable",
                                [RuleFinding("info", "not_applicable", "全年预算数为 0，执行率不适用")])
        return FundsOutcome(ZERO, None, f"全年预算数为 0，却有执行数 {fmt(e)} 万元", "invalid",
                            [RuleFinding("error", "invalid_input", f"全年预算数为 0，全年执行数却为 {fmt(e)} 万元")])
    rate = execution_rate(b, e)
    assert rate is not None
    value = q2(min(rate, HUNDRED) / HUNDRED * p.funds_points)
    out = FundsOutcome(value, rate, f"执行率 {fmt(rate)}%（{fmt(e)}/{fmt(b)}），得 {fmt_points(value)} 分")
    if rate < p.reason_below_pct and blank(reason):
        out.findings.append(RuleFinding("warning", "note_missing",
                                        f"执行率 {fmt(rate)}% 低于 {fmt_points(p.reason_below_pct)}%，未填写偏差原因"))
    return out


def funds_formula(budget: str, executed: str, p: RowRuleParams | None = None) -> str:
    """The Excel twin of funds_score's score (names of the budget and executed cells)."""
    p = p or RowRuleParams()
    pts = excel_number(p.funds_points)
    b, e = f"SUM({budget})", f"SUM({executed})"  # SUM: a blank cell is 0 in every engine
    bad = f"OR(AND({budget}<>\"\",NOT(ISNUMBER({budget}))),AND({executed}<>\"\",NOT(ISNUMBER({executed}))),{b}<0,{e}<0)"
    rate = f"ROUND(100*{e}/{b},2)"
    return (f'=IF({bad},"无效",IF({b}=0,IF({e}=0,{pts},"无效"),'
            f"ROUND(MIN({rate},100)/100*{pts},2)))")


# The cap option as some provinces' systems apply it (form-3-1.md default 7), for RowRuleParams.cap_bands.
PROVINCIAL_CAPS: tuple[tuple[Decimal, Decimal | None], ...] = (
    (Decimal(80), None), (Decimal(70), Decimal(89)), (Decimal(60), Decimal(79)), (Decimal(50), Decimal(69)),
    (ZERO, Decimal(59)))


def capped_total(total: Decimal, rate: Decimal | None, p: RowRuleParams | None = None) -> Decimal:
    """The total after the execution-rate cap (no rate, or the option off: unchanged)."""
    p = p or RowRuleParams()
    if rate is None:
        return total
    for edge, cap in sorted(p.cap_bands, key=lambda band: band[0], reverse=True):
        if rate >= edge:
            return total if cap is None else min(total, cap)
    return total


# -- indicator rows ---------------------------------------------------------------------------------

@dataclass
class RowInput:
    """One indicator row as typed (None = blank)."""

    name: Any = None
    nature: Any = None
    target: Any = None
    unit: Any = None
    actual: Any = None
    points: Any = None
    reason: Any = None

    @property
    def used(self) -> bool:
        return not blank(self.name)


@dataclass
class RowOutcome:
    status: str  # unused | ok | missing | invalid
    score: Decimal = ZERO
    points: Decimal = ZERO  # the row's 分值 (0 unless it is a valid number)
    basis: str = ""
    findings: list[RuleFinding] = field(default_factory=list)


def _raw_row_score(kind: str, target: Decimal, actual: Decimal, pts: Decimal) -> Decimal:
    if kind == AT_LEAST:
        if target == 0:
            return pts if actual >= 0 else ZERO
        return pts if actual >= target else pts * actual / target
    if kind == AT_MOST:
        if actual <= target:
            return pts
        return pts if actual == 0 else pts * target / actual
    if target == 0:  # EQUAL
        return pts if actual >= 0 else ZERO
    return pts if actual == target else pts * (1 - abs(actual - target) / target)


def score_row(row: RowInput, p: RowRuleParams | None = None) -> RowOutcome:
    """Score one indicator row (form-3-1.md: rows, defaults 3, 4 and 6)."""
    p = p or RowRuleParams()
    if not row.used:
        return RowOutcome("unused")
    empty = [label for label, v in (("指标性质", row.nature), ("年度指标值", row.target),
                                     ("实际完成值", row.actual), ("分值", row.points)) if blank(v)]
    if empty:
        given = _number(row.points)  # a filled 分值 still counts towards its level's points
        return RowOutcome("missing", points=given if given is not None and given >= 0 else ZERO,
                          basis="未填：" + "、".join(empty),
                          findings=[RuleFinding("error", "missing_input", "、".join(empty) + "未填")])
    pts = _number(row.points)
    kind = p.natures.get(str(row.nature))  # as typed: the workbook compares nature="≥" exactly
    problems = []
    if kind is None:
        problems.append(f"指标性质“{row.nature}”应为 {'、'.join(p.natures)} 之一")
    if pts is None or pts < 0:
        problems.append(f"分值“{row.points}”应为不小于 0 的数")
    if kind == QUALITATIVE:
        if str(row.actual) not in p.qualitative_shares:
            problems.append(f"定性指标的完成值“{row.actual}”应为 {'、'.join(p.qualitative_shares)} 之一")
    elif kind is not None:
        for label, v in (("年度指标值", row.target), ("实际完成值", row.actual)):
            if _number(v) is None:
                problems.append(f"{label}“{v}”不是数字")
    if problems:
        return RowOutcome("invalid", points=pts if pts is not None and pts >= 0 else ZERO, basis="数据无效",
                          findings=[RuleFinding("error", "invalid_input", "；".join(problems))])
    assert pts is not None and kind is not None
    findings: list[RuleFinding] = []
    if kind == QUALITATIVE:
        share = p.qualitative_shares[str(row.actual)]
        value = q2(max(ZERO, min(pts, pts * share)))
        basis = f"定性：{row.actual}（{fmt_points(share * 100)}%），得 {fmt_points(value)} 分"
    else:
        target, actual = _number(row.target), _number(row.actual)
        assert target is not None and actual is not None
        value = q2(max(ZERO, min(pts, _raw_row_score(kind, target, actual, pts))))
        basis = f"指标值 {fmt_points(target)}，完成值 {fmt_points(actual)}，得 {fmt_points(value)} 分"
        if target == 0 and kind in (AT_LEAST, EQUAL):
            findings.append(RuleFinding("warning", "zero_base", "年度指标值为 0，无法衡量完成程度"))
        elif kind == AT_LEAST and target != 0:
            deviation = q2(HUNDRED * (actual - target) / target)
            if deviation >= p.deviation_pct:
                findings.append(RuleFinding("warning", "target_deviation",
                                            f"完成值超出指标值 {fmt(deviation)}%（≥ {fmt_points(p.deviation_pct)}%），"
                                            "指标值可能定得过低"))
                if p.deviation_deduction is not None:
                    value = q2(max(ZERO, value - p.deviation_deduction))
    if value < pts and blank(row.reason):
        findings.append(RuleFinding("warning", "note_missing",
                                    f"得 {fmt_points(value)} 分（分值 {fmt_points(pts)}），未填写偏差原因"))
    return RowOutcome("ok", value, pts, basis, findings)


def row_formula(name: str, nature: str, target: str, actual: str, points: str,
                p: RowRuleParams | None = None) -> str:
    """The Excel twin of score_row's score: "" (unused), 未填, 无效 or the score."""
    p = p or RowRuleParams()
    words = {v: k for k, v in p.natures.items()}
    nature_ok = "OR(" + ",".join(f'{nature}="{w}"' for w in p.natures) + ")"
    q_words = list(p.qualitative_shares)
    q_ok = "OR(" + ",".join(f'{actual}="{w}"' for w in q_words) + ")"
    share = "0"
    for w in reversed(q_words):
        share = f'IF({actual}="{w}",{excel_number(p.qualitative_shares[w])},{share})'
    t, a, s = target, actual, points
    at_least = f"IF({t}=0,IF({a}>=0,{s},0),IF({a}>={t},{s},{s}*{a}/{t}))"
    at_most = f"IF({a}<={t},{s},IF({a}=0,{s},{s}*{t}/{a}))"
    equal = f"IF({t}=0,IF({a}>=0,{s},0),IF({a}={t},{s},{s}*(1-ABS({a}-{t})/{t})))"
    numeric = (f'IF({nature}="{words[AT_LEAST]}",{at_least},'
               f'IF({nature}="{words[AT_MOST]}",{at_most},{equal}))')
    score = f"ROUND(MAX(0,MIN({s},{numeric})),2)"
    if p.deviation_deduction is not None:
        # nested IFs, not AND(): spreadsheets evaluate every AND() argument, so t = 0 would be #DIV/0!
        dev = (f'IF({nature}="{words[AT_LEAST]}",IF({t}<>0,'
               f'ROUND(100*({a}-{t})/{t},2)>={excel_number(p.deviation_pct)},FALSE),FALSE)')
        score = f"IF({dev},ROUND(MAX(0,{score}-{excel_number(p.deviation_deduction)}),2),{score})"
    qualitative = f'IF({q_ok},ROUND(MAX(0,MIN({s},{s}*{share})),2),"无效")'
    return (f'=IF(TRIM({name})="","",IF(OR(TRIM({nature})="",TRIM({target})="",TRIM({actual})="",TRIM({points})=""),"未填",'
            f'IF(OR(NOT({nature_ok}),NOT(ISNUMBER({s}))),"无效",IF({s}<0,"无效",'
            f'IF({nature}="{words[QUALITATIVE]}",{qualitative},'
            f'IF(OR(NOT(ISNUMBER({t})),NOT(ISNUMBER({a}))),"无效",{score}))))))')


def level_points_finding(rows: list[RowOutcome], level_points: Decimal, level_name: str) -> RuleFinding | None:
    """The used rows' 分值 must add up to the level's points exactly (form-3-1.md default 5)."""
    used = [r for r in rows if r.status != "unused"]
    total = sum((r.points for r in used), ZERO)
    if total == level_points:
        return None
    return RuleFinding("error", "invalid_input",
                       f"{level_name}各行分值合计 {fmt_points(total)}，应为 {fmt_points(level_points)}")


def text_too_long(text: Any, label: str, p: RowRuleParams | None = None) -> RuleFinding | None:
    """A report text over the limit (code points, as typed): the `text_too_long` warning."""
    p = p or RowRuleParams()
    if text is None or len(str(text)) <= p.text_limit:  # LEN(x) as the 审核 row counts it
        return None
    return RuleFinding("warning", "text_too_long", f"“{label}”{len(str(text))} 字，超过 {p.text_limit} 字")
