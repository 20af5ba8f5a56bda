"""Printing helpers shared by the commands: JSON, Chinese tables, errors."""

from __future__ import annotations

import json
import unicodedata
from decimal import Decimal
from typing import Any, NoReturn

import typer

from workbook.report import SEVERITY_ZH, Finding, Report, indicator_dict, number, sort_findings


def print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=_default))


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return number(o)
    return str(o)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a Chinese error to stderr and exit with `code` (never a traceback)."""
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, w: int) -> str:
    return text + " " * max(0, w - width(text))


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(pad(str(c), widths[i]) for i, c in enumerate(header))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad(str(c), widths[i]) for i, c in enumerate(r)) for r in rows]
    return "\n".join(lines)


def report_dict(report: Report) -> dict[str, Any]:
    """The score JSON contract: indicators[], total, grade, findings[]."""
    return {
        "template": {"id": report.template_id, "version": report.template_version},
        "indicators": [indicator_dict(r) for r in report.indicators],
        "subtotals": {k: number(v) for k, v in report.subtotals.items()},
        "total": number(report.total),
        "grade": report.grade,
        "findings": [f.to_dict() for f in sort_findings(report.findings)],
    }


def findings_text(findings: list[Finding], indent: str = "  ") -> str:
    lines = []
    for sev in ("error", "warning", "info"):
        group = [f for f in findings if f.severity == sev]
        if not group:
            continue
        lines.append(f"{indent}{SEVERITY_ZH[sev]}（{len(group)}）：")
        for f in group:
            tail = f"（已说明：{f.explanation}）" if f.explained else ""
            lines.append(f"{indent}  [{f.code}] {f.message}{tail}")
    return "\n".join(lines)

