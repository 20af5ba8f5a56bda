"""Rule kinds of 附件3-2.  Each class scores in Python and renders the same rule as an Excel formula.

A rule never sees blank or non-numeric required inputs: the engine (Python) and the
formula wrapper (Excel) handle those before the rule body runs.  References to a
blank-as-zero money cell are rendered as N(key) so text in such a cell counts as 0,
exactly as the engine treats it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from .numbers import HUNDRED, ZERO, excel_number, fmt, fmt_points, q2, round_down, round_up, to_decimal

if TYPE_CHECKING:
    from .template import Indicator, Template


class ValueSource(Protocol):
    def num(self, key: str) -> Decimal: ...
    def text(self, key: str) -> str | None: ...


Ref = Callable[[str], str]  # key -> Excel reference text


@dataclass
class RuleFinding:
    severity: str
    code: str
    message: str


@dataclass
class Outcome:
    score: Decimal
    basis: str
    not_applicable: bool = False
    findings: list[RuleFinding] = field(default_factory=list)


@dataclass(frozen=True)
class ZeroPolicy:
    """What a rate rule does when its denominator is 0 (rules.md §4)."""

    denominator: str
    numerator: str
    policy: str  # error | not_applicable | zero_base


def _n(x: Any) -> str:
    return excel_number(x)


class Rule:
    kind: ClassVar[str] = ""

    def __init__(self, indicator: Indicator):
        self.ind = indicator
        self.p = self._resolve(indicator.params)

    @staticmethod
    def _resolve(params: dict[str, Any]) -> dict[str, Any]:
        """Apply the basis switch: the chosen variant's fields override the rule's own."""
        p = dict(params)
        variants = p.pop("variants", None)
        if variants:
            p.update(variants[p.get("basis") or next(iter(variants))])
        return p

    @classmethod
    def lint(cls, data: dict[str, Any], known: set[str]) -> list[str]:
        return []

    @property
    def max(self) -> Decimal:
        return self.ind.max

    def referenced(self) -> list[str]:
        raise NotImplementedError

    def required_inputs(self, t: Template) -> list[str]:
        out: list[str] = []
        for key in self.referenced():
            for k in t.expand(key):
                if k in t.inputs and not t.inputs[k].blank_zero and k not in out:
                    out.append(k)
        return out

    def zero_policy(self) -> ZeroPolicy | None:
        return None

    def evaluate(self, v: ValueSource) -> Outcome:
        raise NotImplementedError

    def body(self, ref: Ref) -> str:
        """The Excel expression of the (unclamped) score."""
        raise NotImplementedError


def _lint_keys(data: dict[str, Any], known: set[str], *names: str) -> list[str]:
    probs = []
    for name in names:
        key = data.get(name)
        if key is None:
            probs.append(f"缺少参数 {name}")
        elif key not in known:
            probs.append(f"参数 {name} 引用了未知输入项 {key!r}")
    return probs


def _lint_variants(data: dict[str, Any], known: set[str], *names: str) -> list[str]:
    variants = data.get("variants")
    if not variants:
        return _lint_keys(data, known, *names)
    probs = []
    basis = data.get("basis")
    if basis is not None and basis not in variants:
        probs.append(f"basis {basis!r} 不在 variants {sorted(variants)} 中")
    for vname, variant in variants.items():
        merged = {**data, **variant}
        probs.extend(f"variants.{vname}：{p}" for p in _lint_keys(merged, known, *names))
    return probs


class RateMixin:
    """pct = ROUND(100 × (numerator − minus) / denominator, 2)."""

    p: dict[str, Any]

    def rate_keys(self) -> list[str]:
        keys = [self.p["numerator"], self.p["denominator"]]
        if self.p.get("minus"):
            keys.append(self.p["minus"])
        return keys

    def rate_value(self, v: ValueSource) -> Decimal:
        num = v.num(self.p["numerator"]) - (v.num(self.p["minus"]) if self.p.get("minus") else ZERO)
        return q2(HUNDRED * num / v.num(self.p["denominator"]))

    def rate_formula(self, ref: Ref) -> str:
        num = ref(self.p["numerator"])
        if self.p.get("minus"):
            num = f"({num}-{ref(self.p['minus'])})"
        return f"ROUND(100*{num}/{ref(self.p['denominator'])},2)"

    def zero_policy(self) -> ZeroPolicy | None:
        if "denominator" not in self.p:
            return None
        return ZeroPolicy(self.p["denominator"], self.p["numerator"], self.p.get("zero_denominator", "error"))

    def zero_outcome(self, v: ValueSource, t_label: Callable[[str], str]) -> Outcome | None:
        """Outcome when the denominator is 0, per the rule's zero_denominator policy."""
        zp = self.zero_policy()
        if zp is None or v.num(zp.denominator) != 0:
            return None
        den = t_label(zp.denominator)
        ind: Indicator = self.ind  # type: ignore[attr-defined]
        if zp.policy == "not_applicable":
            return Outcome(ind.max, f"{den}为 0，本项不适用，计满分", True,
                           [RuleFinding("info", "not_applicable", f"{ind.name}：{den}为 0，按不适用计满分 {fmt_points(ind.max)} 分")])
        if zp.policy == "zero_base":
            if q2(v.num(zp.numerator)) > 0:
                return Outcome(ZERO, f"{den}为 0 而{t_label(zp.numerator)}为 {fmt(v.num(zp.numerator))}，不得分", False,
                               [RuleFinding("warning", "zero_base",
                                            f"{ind.name}：{den}为 0，但{t_label(zp.numerator)}为 {fmt(v.num(zp.numerator))} 万元，本项不得分")])
            return Outcome(ind.max, f"{den}为 0 且无支出，计满分")
        return Outcome(ZERO, f"{den}为 0，无法计算，不得分", False,
                       [RuleFinding("error", "invalid_input", f"{ind.name}：{den}为 0，无法计算{self.p.get('rate_label', '比率')}")])

    def zero_formula(self, ref: Ref, normal: str) -> str:
        zp = self.zero_policy()
        if zp is None:
            return normal
        ind: Indicator = self.ind  # type: ignore[attr-defined]
        mx = _n(ind.max)
        zero = {"not_applicable": mx, "error": "0"}.get(zp.policy, f"IF(ROUND({ref(zp.numerator)},2)>0,0,{mx})")
        return f"IF({ref(zp.denominator)}=0,{zero},{normal})"


class RateTarget(RateMixin, Rule):
    """A rate against a target; every percentage point beyond it deducts `step`."""

    kind = "rate_target"

    @classmethod
    def lint(cls, data: dict[str, Any], known: set[str]) -> list[str]:
        probs = _lint_variants(data, known, "numerator", "denominator")
        if data.get("direction") not in {"at_most", "at_least"}:
            probs.append("direction 应为 at_most（不超过目标）或 at_least（不低于目标）")
        if data.get("per_point", "proportional") not in {"proportional", "floor", "ceil"}:
            probs.append("per_point 应为 proportional、floor 或 ceil")
        if data.get("zero_denominator", "error") not in {"error", "not_applicable", "zero_base"}:
            probs.append("zero_denominator 应为 error、not_applicable 或 zero_base")
        for name in ("target", "step"):
            if not isinstance(data.get(name), (int, float)):
                probs.append(f"缺少数值参数 {name}")
        return probs

    def referenced(self) -> list[str]:
        return self.rate_keys()

    @property
    def target(self) -> Decimal:
        return to_decimal(self.p["target"])

    @property
    def step(self) -> Decimal:
        return to_decimal(self.p["step"])

    def _points(self, excess: Decimal) -> Decimal:
        mode = self.p.get("per_point", "proportional")
        if mode == "floor":
            return round_down(excess)
        if mode == "ceil":
            return round_up(excess)
        return excess

    def evaluate(self, v: ValueSource, label: Callable[[str], str] = str) -> Outcome:
        zero = self.zero_outcome(v, label)
        if zero:
            return zero
        pct = self.rate_value(v)
        name = self.p.get("rate_label", "比率")
        at_most = self.p["direction"] == "at_most"
        excess = q2(pct - self.target) if at_most else q2(self.target - pct)
        sign = "≦" if at_most else "≥"
        if excess <= 0:
            return Outcome(self.max, f"{name} {fmt(pct)}%（{sign}{_n(self.target)}%），满分")
        deduction = self.step * self._points(excess)
        word = "超过" if at_most else "低于"
        return Outcome(self.max - deduction,
                       f"{name} {fmt(pct)}%，{word}标准 {fmt(excess)} 个百分点，扣 {fmt_points(deduction)} 分")

    def body(self, ref: Ref) -> str:
        pct = self.rate_formula(ref)
        at_most = self.p["direction"] == "at_most"
        excess = f"ROUND({pct}-{_n(self.target)},2)" if at_most else f"ROUND({_n(self.target)}-{pct},2)"
        mode = self.p.get("per_point", "proportional")
        if mode == "floor":
            excess = f"ROUNDDOWN({excess},0)"
        elif mode == "ceil":
            excess = f"ROUNDUP({excess},0)"
        cmp = "<=" if at_most else ">="
        mx = _n(self.max)
        normal = f"IF({pct}{cmp}{_n(self.target)},{mx},{mx}-ROUND({_n(self.step)}*{excess},4))"
        return self.zero_formula(ref, normal)


@dataclass(frozen=True)
class Band:
    lo: Decimal
    hi: Decimal | None
    lo_incl: bool
    hi_incl: bool
    score: Decimal

    def contains(self, x: Decimal) -> bool:
        above = x >= self.lo if self.lo_incl else x > self.lo
        below = True if self.hi is None else (x <= self.hi if self.hi_incl else x < self.hi)
        return above and below

    def formula(self, x: str) -> str:
        parts = [f"{x}{'>=' if self.lo_incl else '>'}{_n(self.lo)}"]
        if self.hi is not None:
            parts.append(f"{x}{'<=' if self.hi_incl else '<'}{_n(self.hi)}")
        return parts[0] if len(parts) == 1 else f"AND({','.join(parts)})"

    def describe(self) -> str:
        left = "[" if self.lo_incl else "("
        right = ("]" if self.hi_incl else ")") if self.hi is not None else ")"
        hi = _n(self.hi) if self.hi is not None else "∞"
        return f"{left}{_n(self.lo)},{hi}{right}"


def parse_bands(raw: list[dict[str, Any]]) -> list[Band]:
    return [Band(to_decimal(b["from"]), None if b.get("to") is None else to_decimal(b["to"]),
                 bool(b.get("from_inclusive", True)), bool(b.get("to_inclusive", False)), to_decimal(b["score"]))
            for b in raw]


def lint_bands(bands: list[Band], maximum: Decimal) -> list[str]:
    """Bands must tile [first lo, ∞) with no overlap and no gap, and score within [0, max]."""
    probs = []
    if not bands:
        return ["没有分档 bands"]
    order = sorted(bands, key=lambda b: (b.lo, not b.lo_incl))
    for b in order:
        if b.score < 0 or b.score > maximum:
            probs.append(f"分档 {b.describe()} 的得分 {b.score} 超出 0～{maximum}")
        if b.hi is not None and (b.hi < b.lo or (b.hi == b.lo and not (b.lo_incl and b.hi_incl))):
            probs.append(f"分档 {b.describe()} 是空区间")
    for a, b in zip(order, order[1:], strict=False):
        if a.hi is None:
            probs.append(f"分档 {a.describe()} 已到无穷大，与 {b.describe()} 重叠")
            continue
        if b.lo < a.hi or (b.lo == a.hi and a.hi_incl and b.lo_incl):
            probs.append(f"分档 {a.describe()} 与 {b.describe()} 重叠")
        elif b.lo > a.hi or (b.lo == a.hi and not a.hi_incl and not b.lo_incl):
            probs.append(f"分档 {a.describe()} 与 {b.describe()} 之间有空档")
    if order[-1].hi is not None:
        probs.append(f"最后一档 {order[-1].describe()} 应无上限")
    return probs


class Bands(RateMixin, Rule):
    """Banded thresholds on a rate (numerator/denominator) or on a typed percentage (value)."""

    kind = "bands"

    def __init__(self, indicator: Indicator):
        super().__init__(indicator)
        self.bands = parse_bands(self.p["bands"])

    @classmethod
    def lint(cls, data: dict[str, Any], known: set[str]) -> list[str]:
        if "value" in data:
            probs = _lint_keys(data, known, "value")
        else:
            probs = _lint_variants(data, known, "numerator", "denominator")
        try:
            probs += lint_bands(parse_bands(data.get("bands", [])), to_decimal(data["max"]))
        except (KeyError, TypeError) as exc:
            probs.append(f"分档定义不完整：{exc}")
        return probs

    def referenced(self) -> list[str]:
        return [self.p["value"]] if "value" in self.p else self.rate_keys()

    def zero_policy(self) -> ZeroPolicy | None:
        return None if "value" in self.p else super().zero_policy()

    def evaluate(self, v: ValueSource, label: Callable[[str], str] = str) -> Outcome:
        zero = self.zero_outcome(v, label) if "value" not in self.p else None
        if zero:
            return zero
        x = q2(v.num(self.p["value"])) if "value" in self.p else self.rate_value(v)
        name = self.p.get("rate_label", "比率")
        for b in self.bands:
            if b.contains(x):
                return Outcome(b.score, f"{name} {fmt(x)}%，落在 {b.describe()} 档，得 {fmt_points(b.score)} 分")
        return Outcome(ZERO, f"{name} {fmt(x)}%，不在任何分档内，不得分")

    def body(self, ref: Ref) -> str:
        x = f"ROUND({ref(self.p['value'])},2)" if "value" in self.p else self.rate_formula(ref)
        expr = "0"
        for b in reversed(self.bands):
            expr = f"IF({b.formula(x)},{_n(b.score)},{expr})"
        return self.zero_formula(ref, expr) if "value" not in self.p else expr


class CountDeduction(Rule):
    """max − step × count (每出现一例扣 step 分，扣完为止)."""

    kind = "count_deduction"

    @classmethod
    def lint(cls, data: dict[str, Any], known: set[str]) -> list[str]:
        probs = _lint_keys(data, known, "count")
        if not isinstance(data.get("step"), (int, float)):
            probs.append("缺少数值参数 step")
        return probs

    def referenced(self) -> list[str]:
        return [self.p["count"]]

    def evaluate(self, v: ValueSource, label: Callable[[str], str] = str) -> Outcome:
        n = v.num(self.p["count"])
        step = to_decimal(self.p["step"])
        if n <= 0:
            return Outcome(self.max, f"{self.p.get('count_label', '扣分事项')} 0 个，满分")
        return Outcome(self.max - step * n, f"{self.p.get('count_label', '扣分事项')} {fmt_points(n)} 个，扣 {fmt_points(step * n)} 分")

    def body(self, ref: Ref) -> str:
        return f"{_n(self.max)}-{_n(self.p['step'])}*{ref(self.p['count'])}"


class Checklist(Rule):
    """Points for each 是 among the listed yes/no inputs."""

    kind = "checklist"

    @classmethod
    def lint(cls, data: dict[str, Any], known: set[str]) -> list[str]:
        items = data.get("items") or []
        if not items:
            return ["缺少 items"]
        probs = []
        for it in items:
            if it.get("key") not in known:
                probs.append(f"items 引用了未知输入项 {it.get('key')!r}")
        total = sum(to_decimal(it.get("points", 0)) for it in items)
        if total != to_decimal(data["max"]):
            probs.append(f"各项分值之和 {total} 与分值 {data['max']} 不等")
        return probs

    def referenced(self) -> list[str]:
        return [it["key"] for it in self.p["items"]]

    def evaluate(self, v: ValueSource, label: Callable[[str], str] = str) -> Outcome:
        got = ZERO
        missed = []
        for it in self.p["items"]:
            if v.text(it["key"]) == "是":
                got += to_decimal(it["points"])
            else:
                missed.append(label(it["key"]))
        if not missed:
            return Outcome(got, f"{len(self.p['items'])} 项均为“是”，满分")
        return Outcome(got, f"{len(missed)} 项为“否”：" + "；".join(missed))

    def body(self, ref: Ref) -> str:
        return "+".join(f"IF({ref(it['key'])}=\"是\",{_n(it['points'])},0)" for it in self.p["items"])


class BalanceCategory(Rule):
    """无结余 → max；结余不超过 base → partial；否则 0."""

    kind = "balance_category"

    @classmethod
    def lint(cls, data: dict[str, Any], known: set[str]) -> list[str]:
        probs = _lint_variants(data, known, "value", "base")
        if not isinstance(data.get("partial"), (int, float)):
            probs.append("缺少数值参数 partial")
        return probs

    def referenced(self) -> list[str]:
        return [self.p["value"], self.p["base"]]

    def evaluate(self, v: ValueSource, label: Callable[[str], str] = str) -> Outcome:
        x, base = q2(v.num(self.p["value"])), q2(v.num(self.p["base"]))
        name, base_name = label(self.p["value"]), label(self.p["base"])
        if x == 0:
            return Outcome(self.max, f"{name}为 0（无结余），满分")
        if x <= base:
            return Outcome(to_decimal(self.p["partial"]),
                           f"{name} {fmt(x)} 万元，不超过{base_name} {fmt(base)} 万元，得 {fmt_points(self.p['partial'])} 分")
        return Outcome(ZERO, f"{name} {fmt(x)} 万元，超过{base_name} {fmt(base)} 万元，不得分")

    def body(self, ref: Ref) -> str:
        x, base = f"ROUND({ref(self.p['value'])},2)", f"ROUND({ref(self.p['base'])},2)"
        return f"IF({x}=0,{_n(self.max)},IF({x}<={base},{_n(self.p['partial'])},0))"


class TypedScore(Rule):
    """A score typed by the unit, capped to [0, max]."""

    kind = "typed_score"

    @classmethod
    def lint(cls, data: dict[str, Any], known: set[str]) -> list[str]:
        return _lint_keys(data, known, "value")

    def referenced(self) -> list[str]:
        return [self.p["value"]]

    def evaluate(self, v: ValueSource, label: Callable[[str], str] = str) -> Outcome:
        x = v.num(self.p["value"])
        if x > self.max or x < 0:
            return Outcome(x, f"自评分 {fmt_points(x)} 超出 0～{fmt_points(self.max)}，按上下限计")
        return Outcome(x, f"自评分 {fmt_points(x)}")

    def body(self, ref: Ref) -> str:
        return ref(self.p["value"])


RULE_KINDS: dict[str, type[Rule]] = {
    cls.kind: cls for cls in (RateTarget, Bands, CountDeduction, Checklist, BalanceCategory, TypedScore)
}
