"""Cross-checks (审核, rules.md §5), shared by the engine and the workbook's 审核 sheet.

Each check evaluates in Python and renders the same condition as Excel formulas
(a status word and a message with the figures involved), so the 审核 rows the unit
sees and the findings the bureau gets cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from .numbers import ZERO, excel_number, fmt, q2, to_decimal
from .template import CheckSpec, Template
from .values import Values

PASS, SKIP, NOT_LIVE = "通过", "未填", "—"
FAIL_WORD = {"error": "错误", "warning": "警告", "info": "提示"}


PORTABLE_REVISION = 3  # from this formula revision on: SUM(key) for blank-as-zero, ROUND before TEXT, 未完成


def ref(t: Template, key: str) -> str:
    """How a formula refers to a key: a blank-as-zero cell as a number (0 when blank or text), else the name.

    N(key) is #NUM! on a blank cell in Gnumeric; SUM(key) is 0 there as in Excel, WPS and LibreOffice.
    """
    spec = t.inputs.get(key)
    if spec is None or not spec.blank_zero:
        return key
    return f"SUM({key})" if t.formula_revision >= PORTABLE_REVISION else f"N({key})"


def required_of(t: Template, keys: list[str]) -> list[str]:
    req = set(t.required_inputs())
    out: list[str] = []
    for key in keys:
        for k in t.expand(key):
            if k in req and k not in out:
                out.append(k)
    return out


def guard(t: Template, keys: list[str], expr: str, blank: str = '"未填"', invalid: str = '"无效"') -> str:
    """Wrap an expression: blank required inputs → blank text, wrong type → invalid text."""
    req = required_of(t, keys)
    if not req:
        return expr
    blanks = ",".join(f'{k}=""' for k in req)
    valid = ",".join(
        f'OR({k}="是",{k}="否")' if t.inputs[k].type == "yesno" else f"ISNUMBER({k})" for k in req)
    return f"IF(OR({blanks}),{blank},IF(AND({valid}),{expr},{invalid}))"


def _linear(t: Template, terms: list[str]) -> str:
    out = ""
    for term in terms:
        neg = term.startswith("-")
        key = term.lstrip("-")  # pragma: no mutate - keys are lower-case names: stripping other characters too is alike
        out += ("-" if neg else ("+" if out else "")) + ref(t, key)
    return out


def _linear_value(v: Values, terms: list[str]) -> Decimal:
    # mutmut: without the ZERO start the sum begins at int 0, which adds to Decimals alike
    return sum(((-v.num(x[1:])) if x.startswith("-") else v.num(x) for x in terms), ZERO)  # pragma: no mutate


def _linear_label(t: Template, terms: list[str]) -> str:
    out = ""
    for term in terms:
        # mutmut: keys are lower-case names, so stripping other characters besides "-" is alike
        out += (" − " if term.startswith("-") else (" + " if out else "")) + t.label(term.lstrip("-"))  # pragma: no mutate
    return out


def _is_int(t: Template, key: str) -> bool:
    return key in t.inputs and t.inputs[key].type == "int"


def _text(expr: str, t: Template, key: str | None = None) -> str:
    """TEXT(expr, "0.00"), or "0" for a count of people or items; rounded first from the portable revision on
    (engines differ in how TEXT rounds 1.005)."""
    digits = 0 if key and _is_int(t, key) else 2
    if t.formula_revision >= PORTABLE_REVISION:
        expr = f"ROUND({expr},{digits})"
    return f'TEXT({expr},"{"0" if digits == 0 else "0.00"}")'


def fmt_key(t: Template, key: str, value: Decimal) -> str:
    """The Python twin of _text: how a message shows a figure."""
    return fmt(value, 0) if _is_int(t, key) else fmt(value)


@dataclass
class CheckResult:
    status: str  # PASS, SKIP, or the fail word
    message: str
    failed: bool


class Check:
    """One 审核 row."""

    id: str
    label: str
    severity: str
    code: str
    live: bool = True  # False: the workbook cannot evaluate it (Python only)

    def keys(self) -> list[str]:
        return []

    def fail_word(self) -> str:
        return FAIL_WORD[self.severity]

    def status_formula(self, t: Template) -> str:
        raise NotImplementedError

    def message_formula(self, t: Template) -> str:
        raise NotImplementedError


class SpecCheck(Check):
    """A check declared in the template's [[checks]] table."""

    def __init__(self, spec: CheckSpec):
        self.spec = spec
        self.id, self.label, self.severity, self.code = spec.id, spec.label, spec.severity, spec.code
        self.kind = spec.kind
        self.p = spec.params

    def keys(self) -> list[str]:
        if self.kind == "approx_equal":
            # mutmut: keys are lower-case names, so stripping other characters besides "-" is alike
            return [x.lstrip("-") for x in (*self.p["left"], *self.p["right"])]  # pragma: no mutate
        if self.kind == "not_greater":
            return [self.p["left"], self.p["right"]]
        return [self.p["value"]]

    def evaluate(self, v: Values) -> CheckResult:
        t = v.t
        if any(not v.present(k) for k in required_of(t, self.keys())):
            return CheckResult(SKIP, "相关数据未填", False)
        if self.kind == "approx_equal":
            left, right = _linear_value(v, self.p["left"]), _linear_value(v, self.p["right"])
            tol = to_decimal(self.p.get("tolerance", 0.01))
            failed = abs(q2(left - right)) > tol
            msg = (f"{_linear_label(t, self.p['left'])} {fmt(left)}，{_linear_label(t, self.p['right'])} {fmt(right)}，"
                   f"相差 {fmt(left - right)} 万元")
        elif self.kind == "not_greater":
            left, right = v.num(self.p["left"]), v.num(self.p["right"])
            failed = q2(left) > q2(right)
            lk, rk = self.p["left"], self.p["right"]
            msg = f"{t.label(lk)} {fmt_key(t, lk, left)}，{t.label(rk)} {fmt_key(t, rk, right)}"
        else:
            x = v.num(self.p["value"])
            failed = q2(x) > 0
            msg = f"{t.label(self.p['value'])} {fmt(x)} 万元"
        return CheckResult(self.fail_word() if failed else PASS, msg, failed)

    def _condition(self, t: Template) -> str:
        if self.kind == "approx_equal":
            tol = excel_number(self.p.get("tolerance", 0.01))
            return f"ABS(ROUND({_linear(t, self.p['left'])}-({_linear(t, self.p['right'])}),2))>{tol}"
        if self.kind == "not_greater":
            return f"ROUND({ref(t, self.p['left'])},2)>ROUND({ref(t, self.p['right'])},2)"
        return f"ROUND({ref(t, self.p['value'])},2)>0"

    def status_formula(self, t: Template) -> str:
        return "=" + guard(t, self.keys(), f'IF({self._condition(t)},"{self.fail_word()}","{PASS}")',
                           invalid=f'"{SKIP}"')

    def message_formula(self, t: Template) -> str:
        if self.kind == "approx_equal":
            left, right = _linear(t, self.p["left"]), _linear(t, self.p["right"])
            body = (f'"{_linear_label(t, self.p["left"])} "&{_text(left, t)}&"，{_linear_label(t, self.p["right"])} "&'
                    f'{_text(right, t)}&"，相差 "&{_text(f"{left}-({right})", t)}&" 万元"')
        elif self.kind == "not_greater":
            lk, rk = self.p["left"], self.p["right"]
            body = f'"{t.label(lk)} "&{_text(ref(t, lk), t, lk)}&"，{t.label(rk)} "&{_text(ref(t, rk), t, rk)}'
        else:
            body = f'"{t.label(self.p["value"])} "&{_text(ref(t, self.p["value"]), t)}&" 万元"'
        return "=" + guard(t, self.keys(), body, blank='"相关数据未填"', invalid='"相关数据未填"')


# Excel refuses a formula over 8,192 characters; a counting row's terms are split into part cells
# of at most this many characters each (revision 2 on), leaving room for longer forms.
PART_LIMIT = 2000


class CountingCheck(Check):
    """A row that counts offending items: fails when the count is above 0.

    Each item contributes one 0/1 term.  From formula revision 2 the terms are summed in hidden
    part cells (``audit_n_<id>_<k>``) and the status and message cells sum the parts, so no
    formula repeats the long count expression.
    """

    fail_text = "有 {n} 项"  # the message when failing; {n} is the count
    pass_text = ""

    def items(self, t: Template) -> list[str]:
        """The items counted (input keys or indicator ids), in formula order."""
        raise NotImplementedError

    def term(self, t: Template, item: str) -> str | None:
        """The 0/1 formula term of one item (None: the item cannot fail)."""
        raise NotImplementedError

    def item_failed(self, v: Values, report, item: str) -> bool:
        """The Python twin of term()."""
        raise NotImplementedError

    def count_formula(self, t: Template) -> str:
        return "+".join(term for i in self.items(t) if (term := self.term(t, i)))

    def parts(self, t: Template) -> list[list[str]]:
        """The items grouped into part cells, each part's formula at most PART_LIMIT characters."""
        parts: list[list[str]] = []
        # mutmut: any start above PART_LIMIT - 1 opens the first part alike (every term has a character)
        size = PART_LIMIT + 1  # pragma: no mutate
        for item in self.items(t):
            term = self.term(t, item)
            if term is None:
                continue
            if size + len(term) + 1 > PART_LIMIT:
                parts.append([])
                size = 1
            parts[-1].append(item)
            size += len(term) + 1
        return parts

    def part_name(self, k: int) -> str:
        return f"audit_n_{self.id}_{k + 1}"

    def part_formula(self, t: Template, items: list[str]) -> str:
        # mutmut: the "0" is never written (parts() lists only items that have a term); kept for direct callers
        return "=" + "+".join(self.term(t, i) or "0" for i in items)  # pragma: no mutate

    def part_count(self, v: Values, report, items: list[str]) -> int:
        return sum(1 for i in items if self.item_failed(v, report, i))

    def _count(self, t: Template) -> str:
        if t.formula_revision < 2:
            return f"({self.count_formula(t)})"
        return f"SUM({','.join(self.part_name(k) for k in range(len(self.parts(t))))})"

    def status_formula(self, t: Template) -> str:
        return f'=IF({self._count(t)}>0,"{self.fail_word()}","{PASS}")'

    def message_formula(self, t: Template) -> str:
        n = self._count(t)
        before, after = self.fail_text.split("{n}")
        return f'=IF({n}>0,"{before}"&{n}&"{after}","{self.pass_text}")'

    def message_for(self, n: int) -> str:
        """The Python twin of message_formula."""
        return self.fail_text.format(n=n) if n else self.pass_text


class RequiredCheck(CountingCheck):
    id, label, severity, code = "required_inputs", "必填数据均已填写", "error", "missing_input"
    fail_text, pass_text = "有 {n} 项必填数据未填（评分表显示“未填”的指标）", "必填数据已填齐"

    def items(self, t: Template) -> list[str]:
        return list(t.required_inputs())

    def term(self, t: Template, item: str) -> str:
        return f'({item}="")'

    def item_failed(self, v: Values, report, item: str) -> bool:
        return item in v.blank


class ValidityCheck(CountingCheck):
    id, label, severity, code = "valid_inputs", "数据类型和取值范围正确", "error", "invalid_input"
    fail_text, pass_text = "有 {n} 项数据类型或取值范围不正确", "数据类型和取值范围正确"

    def items(self, t: Template) -> list[str]:
        return list(t.inputs)

    def term(self, t: Template, item: str) -> str | None:
        key, spec = item, t.inputs[item]
        if spec.type == "yesno":
            return f'IF(OR({key}="",{key}="是",{key}="否"),0,1)'
        if spec.type == "date":
            return f'IF(OR({key}="",ISNUMBER({key})),0,1)'
        if not spec.numeric:
            return None
        bad = []
        if spec.min is not None:
            bad.append(f"{key}<{excel_number(spec.min)}")
        if spec.max is not None:
            bad.append(f"{key}>{excel_number(spec.max)}")
        if spec.type == "int":
            bad.append(f"{key}<>INT({key})")
        inner = f"IF(OR({','.join(bad)}),1,0)" if bad else "0"
        return f'IF(ISNUMBER({key}),{inner},IF({key}="",0,1))'

    def item_failed(self, v: Values, report, item: str) -> bool:
        return item in v.invalid


class ZeroCheck(Check):
    """The zero-denominator case of one rate indicator (rules.md §4)."""

    def __init__(self, t: Template, indicator_id: str):
        ind = t.indicator(indicator_id)
        self.ind = ind
        self.zp = ind.rule.zero_policy()
        self.id = f"zero_{ind.id}"
        den, num = t.label(self.zp.denominator), t.label(self.zp.numerator)
        self.severity, self.code, self.label = {
            "error": ("error", "invalid_input", f"{den}不为 0（{ind.name}）"),
            "zero_base": ("warning", "zero_base", f"{den}为 0 时{num}也应为 0（{ind.name}）"),
            "not_applicable": ("info", "not_applicable", f"{den}为 0 时{ind.name}不适用"),
        }[self.zp.policy]

    def keys(self) -> list[str]:
        return self.ind.rule.referenced()

    def status_formula(self, t: Template) -> str:
        den = ref(t, self.zp.denominator)
        cond = f"{den}=0"
        if self.zp.policy == "zero_base":
            cond = f"AND({den}=0,ROUND({ref(t, self.zp.numerator)},2)>0)"
        return "=" + guard(t, self.keys(), f'IF({cond},"{self.fail_word()}","{PASS}")', invalid=f'"{SKIP}"')

    def message_formula(self, t: Template) -> str:
        den, num = self.zp.denominator, self.zp.numerator
        body = f'"{t.label(den)} "&{_text(ref(t, den), t, den)}&"，{t.label(num)} "&{_text(ref(t, num), t, num)}'
        return "=" + guard(t, self.keys(), body, blank='"相关数据未填"', invalid='"相关数据未填"')


class NoteCheck(CountingCheck):
    id, label, severity, code = "notes", "扣分指标均已说明扣分原因", "warning", "note_missing"
    fail_text, pass_text = "有 {n} 项扣分指标未在评分表填写扣分原因", "扣分指标均已说明"

    def items(self, t: Template) -> list[str]:
        return [i.id for i in t.indicators]

    def term(self, t: Template, item: str) -> str:
        mx = excel_number(t.indicator(item).max)
        return f'IF(ISNUMBER(score_{item}),IF(AND(score_{item}<{mx},note_{item}=""),1,0),0)'

    def item_failed(self, v: Values, report, item: str) -> bool:
        r = next(r for r in report.indicators if r.id == item)
        return r.status == "ok" and r.score < r.max and not r.note


class TextCheck(Check):
    """Numbers in report text against a table figure: Python only (regex)."""

    live = False
    severity, code = "warning", "text_mismatch"

    def __init__(self, spec):
        self.spec = spec
        self.id, self.label = spec.id, spec.label
        self.regex = re.compile(spec.pattern)

    def mismatches(self, v: Values) -> list[tuple[str, str, Decimal]]:
        """(field, matched text, number) for every number that contradicts the table."""
        if not v.present(self.spec.key) and self.spec.key not in v.t.computed:
            return []
        actual = v.num(self.spec.key)
        out = []
        for field in self.spec.fields:
            text = v.text(field) or ""  # pragma: no mutate - any digit-free stand-in for a blank field matches nothing
            for m in self.regex.finditer(text):
                try:
                    found = to_decimal(m.group(1))
                except TypeError:
                    continue
                if q2(found) != q2(actual):
                    out.append((field, m.group(0), found))
        return out

    def status_formula(self, t: Template) -> str:
        return f'="{NOT_LIVE}"'

    def message_formula(self, t: Template) -> str:
        return '="报告文字中的数字由财政局读取时自动核对"'


@lru_cache(maxsize=8)
def build_checks(t: Template) -> list[Check]:
    """Every 审核 row of a template, in sheet order (built once per template)."""
    checks: list[Check] = [RequiredCheck(), ValidityCheck()]
    checks += [ZeroCheck(t, i.id) for i in t.indicators if i.rule.zero_policy() is not None]
    checks += [SpecCheck(s) for s in t.checks]
    checks.append(NoteCheck())
    checks += [TextCheck(s) for s in t.text_checks]
    return checks


def cached_message(check: Check, v: Values, report) -> str:
    """The value a 审核 row's message formula shows, computed in Python (the cached value)."""
    t = v.t
    if isinstance(check, SpecCheck):
        return check.evaluate(v).message
    if isinstance(check, CountingCheck):
        return check.message_for(check.part_count(v, report, check.items(t)))
    if isinstance(check, ZeroCheck):
        if any(not v.present(k) for k in required_of(t, check.keys())):
            return "相关数据未填"
        den, num = check.zp.denominator, check.zp.numerator
        return f"{t.label(den)} {fmt_key(t, den, v.num(den))}，{t.label(num)} {fmt_key(t, num, v.num(num))}"
    return "报告文字中的数字由财政局读取时自动核对"
