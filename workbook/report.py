"""Result objects shared by the engine, the verifier and the bureau: findings, scores, reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}


@dataclass
class Finding:
    """One finding: `code` from rules.md §7, `where` names the input, indicator, check or cell."""

    severity: str
    code: str
    where: str
    message: str
    explained: bool = False
    check: str | None = None  # the 审核 row id this finding belongs to, if any
    explanation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["explanation"] is None:
            d.pop("explanation")
        return d


class FindingCounts:
    """Counters over `self.findings`, shared by the engine's Report and the verifier's Verification."""

    findings: list[Finding]

    def count(self, severity: str, *, unexplained: bool = False) -> int:
        return sum(1 for f in self.findings if f.severity == severity and not (unexplained and f.explained))

    @property
    def has_errors(self) -> bool:
        return self.count("error") > 0

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}


@dataclass
class IndicatorResult:
    id: str
    name: str
    level1: str
    level2: str
    max: Decimal
    score: Decimal
    basis: str
    status: str = "ok"  # ok | missing | invalid
    not_applicable: bool = False
    note: str | None = None

    @property
    def display(self) -> Decimal | str:
        """The value the workbook's score cell shows: the score, 未填 or 无效."""
        return {"missing": "未填", "invalid": "无效"}.get(self.status, self.score)


@dataclass
class Report(FindingCounts):
    template_id: str
    template_version: str
    indicators: list[IndicatorResult]
    subtotals: dict[str, Decimal]
    total: Decimal
    grade: str
    findings: list[Finding]
    computed: dict[str, Decimal] = field(default_factory=dict)
    audit: dict[str, str] = field(default_factory=dict)  # check id -> status word (通过/错误/警告/提示/未填/—)

    def indicator(self, indicator_id: str) -> IndicatorResult:
        return next(i for i in self.indicators if i.id == indicator_id)


def indicator_dict(r: IndicatorResult) -> dict[str, Any]:
    """One indicator in the JSON contracts (score and read/verify)."""
    return {"id": r.id, "name": r.name, "level1": r.level1, "level2": r.level2, "max": number(r.max),
            "score": number(r.score), "basis": r.basis, "note": r.note, "status": r.status,
            "not_applicable": r.not_applicable}


def number(value: Any) -> Any:
    """JSON-friendly number: Decimal -> int or float, other values unchanged."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 9))
