"""The 审核 rows of a row form (附件3-1): each check kind as a live Excel formula and its Python twin.

The template declares which checks a form has (`[[checks]]` with id, kind, label, severity, code);
this module knows only the kinds.  A check's status cell shows 通过, the fail word of its severity
(错误 / 警告 / 提示), 未完成 (kind `complete`) or 无效 (the funds data cannot be read); its message
cell shows the figures involved.  The Python twin derives the same words from the engine's report,
so the 审核 sheet a unit prints and the findings the bureau gets cannot disagree (the verifier
compares them cell by cell).

Helper cells (hidden columns of the 审核 sheet) hold per-level counts and sums and the row terms
of counting checks, split into parts so no formula comes near Excel's 8,192-character limit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .checks import FAIL_WORD, PASS
from .numbers import ZERO, excel_number, fmt, fmt_points, q2
from .report import Finding, Report
from .rowrules import blank

INVALID, INCOMPLETE = "无效", "未完成"
PART_LIMIT = 2000  # characters of one helper cell's formula
KINDS = ("complete", "rows_missing", "level_points", "funds_zero", "funds_over", "funds_low_rate",
         "row_reasons", "deviation", "texts")
FUNDS_ID = "funds"


@dataclass(frozen=True)
class RowCheckSpec:
    id: str
    kind: str
    label: str
    severity: str
    code: str


@dataclass(frozen=True)
class Helper:
    """A hidden helper cell: its name, formula and Python twin (report, raw inputs) -> value."""

    name: str
    formula: str
    value: Callable[[Report, Mapping[str, Any]], Any]


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)




def _text(expr: str) -> str:
    return f'TEXT(ROUND({expr},2),"0.00")'


class RowCheck:
    """One 审核 row of a row form."""

    def __init__(self, spec: RowCheckSpec, form: Any):
        self.spec, self.f = spec, form
        self.id, self.label, self.severity, self.code = spec.id, spec.label, spec.severity, spec.code
        self.status_name = f"audit_{spec.id}"

    @property
    def fail(self) -> str:
        return INCOMPLETE if self.spec.kind == "complete" else FAIL_WORD[self.severity]

    # the kinds: each a (helpers, status formula, message formula) and (status, message) in Python
    def helpers(self) -> list[Helper]:
        return []

    def status_formula(self) -> str:
        raise NotImplementedError

    def message_formula(self) -> str:
        raise NotImplementedError

    def evaluate(self, report: Report, raw: Mapping[str, Any]) -> tuple[str, str]:
        raise NotImplementedError

    def findings(self, report: Report, raw: Mapping[str, Any]) -> list[Finding]:
        """Findings only this check raises (the engine's rules raise the others)."""
        return []


def _row_indicators(report: Report, level: Any) -> list[Any]:
    ids = set(level.row_ids())
    return [r for r in report.indicators if r.id in ids]


class LevelCounts(RowCheck):
    """Helpers shared by the level checks: used rows and summed 分值 per level."""

    def used_name(self, lv: Any) -> str:
        return f"audit_used_{lv.id}"

    def points_name(self, lv: Any) -> str:
        return f"audit_points_{lv.id}"

    def used_helper(self, lv: Any) -> Helper:
        rng = f"scores_{lv.id}"
        return Helper(self.used_name(lv), f'=COUNT({rng})+COUNTIF({rng},"未填")+COUNTIF({rng},"{INVALID}")',
                      lambda rep, raw, lv=lv: len(_row_indicators(rep, lv)))

    def points_helpers(self, lv: Any) -> list[Helper]:
        """The level's summed 分值 of used rows (text or negative 分值 count 0), in parts of PART_LIMIT."""
        f = self.f
        rows = lv.row_ids()
        groups: list[list[str]] = []
        size = PART_LIMIT + 1
        for rid in rows:
            n, p = f.row_key(rid, "name"), f.row_key(rid, "points")
            term = f'IF(TRIM({n})="",0,IF(ISNUMBER({p}),IF({p}>=0,{p},0),0))'
            if size + len(term) + 1 > PART_LIMIT:
                groups.append([])
                size = 1
            groups[-1].append(term)
            size += len(term) + 1
        out, start = [], 0
        for k, terms in enumerate(groups):
            part = rows[start:start + len(terms)]
            start += len(terms)
            out.append(Helper(f"{self.points_name(lv)}_{k + 1}", "=" + "+".join(terms),
                              lambda rep, raw, part=part: self._points(raw, part)))
        return out

    def _points(self, raw: Mapping[str, Any], rows: list[str]) -> Decimal:
        total = ZERO
        for rid in rows:
            n, p = raw.get(self.f.row_key(rid, "name")), raw.get(self.f.row_key(rid, "points"))
            if not blank(n) and _is_number(p) and Decimal(str(p)) >= 0:
                total += Decimal(str(p))
        return total

    def level_sum(self, lv: Any) -> str:
        return "SUM(" + ",".join(h.name for h in self.points_helpers(lv)) + ")"


class Complete(LevelCounts):
    """未完成 while a level has no indicator row or a used row lacks a value."""

    def helpers(self) -> list[Helper]:
        return [self.used_helper(lv) for lv in self.f.levels]

    def _missing(self) -> str:
        return "+".join(f'COUNTIF(scores_{lv.id},"未填")' for lv in self.f.levels)

    def status_formula(self) -> str:
        empty = ",".join(f"{self.used_name(lv)}=0" for lv in self.f.levels)
        return f'=IF(OR({empty},{self._missing()}>0),"{self.fail}","{PASS}")'

    def message_formula(self) -> str:
        parts = [f'IF({self.used_name(lv)}=0,"{lv.name}尚未填写；","")' for lv in self.f.levels]
        n = self._missing()
        parts.append(f'IF({n}>0,"有 "&({n})&" 行指标未填完；","")')
        return f'=IF({self.status_name}="{PASS}","各层级指标均已填写",' + "&".join(parts) + ")"

    def evaluate(self, report: Report, raw: Mapping[str, Any]) -> tuple[str, str]:
        msg = "".join(f"{lv.name}尚未填写；" for lv in self.f.levels if not _row_indicators(report, lv))
        missing = sum(1 for lv in self.f.levels for r in _row_indicators(report, lv) if r.status == "missing")
        if missing:
            msg += f"有 {missing} 行指标未填完；"
        return (self.fail, msg) if msg else (PASS, "各层级指标均已填写")


class RowsMissing(RowCheck):
    """Used rows with a blank 指标性质, 指标值, 完成值 or 分值 (their score shows 未填)."""

    def _n(self) -> str:
        return "(" + "+".join(f'COUNTIF(scores_{lv.id},"未填")' for lv in self.f.levels) + ")"

    def status_formula(self) -> str:
        return f'=IF({self._n()}>0,"{self.fail}","{PASS}")'

    def message_formula(self) -> str:
        n = self._n()
        return f'=IF({n}>0,"有 "&{n}&" 行指标未填完（得分显示“未填”）","已用的指标行均已填齐")'

    def evaluate(self, report: Report, raw: Mapping[str, Any]) -> tuple[str, str]:
        n = sum(1 for lv in self.f.levels for r in _row_indicators(report, lv) if r.status == "missing")
        return (self.fail, f"有 {n} 行指标未填完（得分显示“未填”）") if n else (PASS, "已用的指标行均已填齐")


class LevelPoints(LevelCounts):
    """The used rows' 分值 of each level add up to the level's points."""

    def helpers(self) -> list[Helper]:
        return [h for lv in self.f.levels for h in self.points_helpers(lv)]

    def status_formula(self) -> str:
        off = ",".join(f"ROUND({self.level_sum(lv)},6)<>{excel_number(lv.points)}" for lv in self.f.levels)
        return f'=IF(OR({off}),"{self.fail}","{PASS}")'

    def message_formula(self) -> str:
        parts = [f'"{lv.name} "&{_text(self.level_sum(lv))}&"/{fmt_points(lv.points)}"' for lv in self.f.levels]
        return "=" + '&"，"&'.join(parts)

    def evaluate(self, report: Report, raw: Mapping[str, Any]) -> tuple[str, str]:
        sums = {lv.id: self._points(raw, lv.row_ids()) for lv in self.f.levels}
        failed = any(sums[lv.id] != lv.points for lv in self.f.levels)
        msg = "，".join(f"{lv.name} {fmt(sums[lv.id])}/{fmt_points(lv.points)}" for lv in self.f.levels)
        return (self.fail if failed else PASS), msg


class FundsCheck(RowCheck):
    """Shared by the funds checks: the funds-data-invalid helper and the two column totals."""

    @property
    def budget(self) -> str:
        return f"funds_total_{self.f.funds.budget_column}"

    @property
    def executed(self) -> str:
        return f"funds_total_{self.f.funds.executed_column}"

    def bad_helper(self) -> Helper:
        helper = self.__dict__.get("_bad_helper")
        if helper is None:
            from .form.rowplan import funds_bad_expr, scoring_funds_keys

            keys = scoring_funds_keys(self.f)
            helper = self.__dict__["_bad_helper"] = Helper(
                "audit_funds_bad", f"=IF({funds_bad_expr(self.f)},1,0)",
                lambda rep, raw: 1 if any(_has(rep, "invalid_input", k) for k in keys) else 0)
        return helper

    def helpers(self) -> list[Helper]:
        return [self.bad_helper()]

    def _bad(self, report: Report, raw: Mapping[str, Any]) -> bool:
        return self.bad_helper().value(report, raw) == 1

    def _figures(self) -> str:
        f = self.f.funds
        b = next(c.label for c in f.columns if c.key == f.budget_column)
        e = next(c.label for c in f.columns if c.key == f.executed_column)
        return f'"{b} "&{_text(self.budget)}&"，{e} "&{_text(self.executed)}'

    def _figures_py(self, report: Report) -> str:
        f = self.f.funds
        b = next(c.label for c in f.columns if c.key == f.budget_column)
        e = next(c.label for c in f.columns if c.key == f.executed_column)
        return f"{b} {fmt(report.computed[self.budget])}，{e} {fmt(report.computed[self.executed])}"

    def message_formula(self) -> str:
        return f'=IF(audit_funds_bad=1,"资金数据无效（负数或文字）",{self._figures()})'


class FundsZero(FundsCheck):
    """全年预算数 0 with an execution (the funds score shows 无效)."""

    def status_formula(self) -> str:
        return (f'=IF(audit_funds_bad=1,"{INVALID}",IF(AND({self.budget}=0,{self.executed}>0),'
                f'"{self.fail}","{PASS}"))')

    def evaluate(self, report: Report, raw: Mapping[str, Any]) -> tuple[str, str]:
        if self._bad(report, raw):
            return INVALID, "资金数据无效（负数或文字）"
        failed = _has(report, "invalid_input", FUNDS_ID)
        return (self.fail if failed else PASS), self._figures_py(report)


class FundsOver(FundsCheck):
    """全年执行数 above 全年预算数 (rounded to cents; not when the budget is 0)."""

    def status_formula(self) -> str:
        b, e = f"ROUND({self.budget},2)", f"ROUND({self.executed},2)"
        return f'=IF(audit_funds_bad=1,"{INVALID}",IF(AND({b}>0,{e}>{b}),"{self.fail}","{PASS}"))'

    def evaluate(self, report: Report, raw: Mapping[str, Any]) -> tuple[str, str]:
        if self._bad(report, raw):
            return INVALID, "资金数据无效（负数或文字）"
        b, e = q2(report.computed[self.budget]), q2(report.computed[self.executed])
        return (self.fail if b > 0 and e > b else PASS), self._figures_py(report)

    def findings(self, report: Report, raw: Mapping[str, Any]) -> list[Finding]:
        status, msg = self.evaluate(report, raw)
        return [Finding(self.severity, self.code, FUNDS_ID, f"{self.label}：{msg}")] if status == self.fail else []


class FundsReason(RowCheck):
    """An execution rate below the threshold needs a 偏差原因."""

    def status_formula(self) -> str:
        pct = excel_number(self.f.params.reason_below_pct)
        return (f'=IF(ISNUMBER(funds_rate),IF(AND(funds_rate<{pct},TRIM({self.f.funds.reason_key})=""),'
                f'"{self.fail}","{PASS}"),"{PASS}")')

    def message_formula(self) -> str:
        r = self.f.funds.reason_key
        return (f'=IF(ISNUMBER(funds_rate),"执行率 "&TEXT(funds_rate,"0.00")&"%，"&'
                f'IF(TRIM({r})="","未填写偏差原因","已填写偏差原因"),"没有执行率（全年预算数为 0 或资金数据无效）")')

    def evaluate(self, report: Report, raw: Mapping[str, Any]) -> tuple[str, str]:
        rate = report.computed.get("funds_rate")
        if rate is None:
            return PASS, "没有执行率（全年预算数为 0 或资金数据无效）"
        key = self.f.funds.reason_key
        failed = _has(report, "note_missing", key)
        said = "未填写偏差原因" if blank(raw.get(key)) else "已填写偏差原因"
        return (self.fail if failed else PASS), f"执行率 {fmt(rate)}%，{said}"


class RowCounting(RowCheck):
    """Counts rows (or texts) by a 0/1 term each, summed in helper part cells."""

    fail_text = "有 {n} 行"
    pass_text = ""

    def items(self) -> list[str]:
        return [rid for lv in self.f.levels for rid in lv.row_ids()]

    def term(self, item: str) -> str:
        raise NotImplementedError

    def item_failed(self, report: Report, raw: Mapping[str, Any], item: str) -> bool:
        raise NotImplementedError

    def part_groups(self) -> list[list[str]]:
        groups: list[list[str]] = []
        size = PART_LIMIT + 1
        for item in self.items():
            term = self.term(item)
            if size + len(term) + 1 > PART_LIMIT:
                groups.append([])
                size = 1
            groups[-1].append(item)
            size += len(term) + 1
        return groups

    def helpers(self) -> list[Helper]:
        return [Helper(f"audit_n_{self.id}_{k + 1}", "=" + "+".join(self.term(i) for i in items),
                       lambda rep, raw, items=items: sum(1 for i in items if self.item_failed(rep, raw, i)))
                for k, items in enumerate(self.part_groups())]

    def _n(self) -> str:
        return "SUM(" + ",".join(h.name for h in self.helpers()) + ")"

    def status_formula(self) -> str:
        return f'=IF({self._n()}>0,"{self.fail}","{PASS}")'

    def message_formula(self) -> str:
        before, after = self.fail_text.split("{n}")
        n = self._n()
        return f'=IF({n}>0,"{before}"&{n}&"{after}","{self.pass_text}")'

    def evaluate(self, report: Report, raw: Mapping[str, Any]) -> tuple[str, str]:
        n = sum(1 for i in self.items() if self.item_failed(report, raw, i))
        return (self.fail, self.fail_text.format(n=n)) if n else (PASS, self.pass_text)


def _has(report: Report, code: str, where: str) -> bool:
    """Whether the report has a finding `code` at `where` (an index built once per report and finding count)."""
    index = report.__dict__.get("_finding_index")
    if index is None or index[0] != len(report.findings):
        index = report.__dict__["_finding_index"] = (len(report.findings),
                                                      {(x.code, x.where) for x in report.findings})
    return (code, where) in index[1]


class RowReasons(RowCounting):
    fail_text, pass_text = "有 {n} 行指标扣分但未填写偏差原因", "扣分的指标均已说明原因"

    def term(self, item: str) -> str:
        s, p, r = f"score_{item}", self.f.row_key(item, "points"), self.f.row_key(item, "reason")
        return f'IF(ISNUMBER({s}),IF({s}<{p},IF(TRIM({r})="",1,0),0),0)'

    def item_failed(self, report: Report, raw: Mapping[str, Any], item: str) -> bool:
        return _has(report, "note_missing", item)


class Deviation(RowCounting):
    fail_text, pass_text = "有 {n} 行完成值超出指标值过多（指标值可能定得过低）", "没有完成值大幅超出指标值的指标"

    def term(self, item: str) -> str:
        f = self.f
        words = {v: k for k, v in f.params.natures.items()}
        s, n = f"score_{item}", f.row_key(item, "nature")
        t, a = f.row_key(item, "target"), f.row_key(item, "actual")
        pct = excel_number(f.params.deviation_pct)
        return (f'IF(ISNUMBER({s}),IF({n}="{words["at_least"]}",IF({t}<>0,'
                f"IF(ROUND(100*({a}-{t})/{t},2)>={pct},1,0),0),0),0)")

    def item_failed(self, report: Report, raw: Mapping[str, Any], item: str) -> bool:
        return _has(report, "target_deviation", item)


class Texts(RowCounting):
    fail_text = "有 {n} 段文字超过字数限制"
    pass_text = "文字均未超过字数限制"

    def items(self) -> list[str]:
        return [t.key for t in self.f.texts]

    def term(self, item: str) -> str:
        return f"IF(LEN({item})>{self.f.params.text_limit},1,0)"

    def item_failed(self, report: Report, raw: Mapping[str, Any], item: str) -> bool:
        return _has(report, "text_too_long", item)


_KIND_CLASS: dict[str, type[RowCheck]] = {
    "complete": Complete, "rows_missing": RowsMissing, "level_points": LevelPoints, "funds_zero": FundsZero,
    "funds_over": FundsOver, "funds_low_rate": FundsReason, "row_reasons": RowReasons, "deviation": Deviation,
    "texts": Texts}


def row_checks(form: Any) -> list[RowCheck]:
    """The 审核 rows the template declares, in its order (built once per form)."""
    cached = form.__dict__.get("_checks")
    if cached is None:
        cached = form.__dict__["_checks"] = [_KIND_CLASS[s.kind](s, form) for s in form.checks]
    return cached


def unique_helpers(form: Any) -> list[Helper]:
    """Every helper cell, once (checks of one family share some)."""
    out: dict[str, Helper] = {}
    for check in row_checks(form):
        for h in check.helpers():
            out.setdefault(h.name, h)
    return list(out.values())


def complete_check(form: Any) -> RowCheck | None:
    """The template's `complete` check: while it shows 未完成, so do the total and the grade."""
    return next((c for c in row_checks(form) if c.spec.kind == "complete"), None)


def shown_result(form: Any, report: Report) -> tuple[Any, str]:
    """(total, grade) as the workbook shows them: 未完成 while the form is incomplete, else the engine's."""
    check = complete_check(form)
    if check is not None and report.audit.get(check.id) == INCOMPLETE:
        return INCOMPLETE, INCOMPLETE
    return report.total, report.grade


def audit(form: Any, report: Report, raw: Mapping[str, Any]) -> None:
    """Fill report.audit (check id -> status) and add the findings only checks raise."""
    for check in row_checks(form):
        report.findings.extend(check.findings(report, raw))
    for check in row_checks(form):
        report.audit[check.id] = check.evaluate(report, raw)[0]


__all__ = ["INCOMPLETE", "INVALID", "KINDS", "RowCheck", "RowCheckSpec", "audit", "complete_check", "row_checks",
           "shown_result", "unique_helpers"]
