"""Printing helpers shared by the commands: JSON, Chinese tables, errors."""

from __future__ import annotations

import json
import unicodedata
from decimal import Decimal
from typing import Any, NoReturn

import typer

from workbook.report import SEVERITY_ZH, Finding, Report, indicator_dict, number, sort_findings


def json_text(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=_default)


def print_json(obj: Any) -> None:
    typer.echo(json_text(obj))


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



def check_year(year: int) -> int:
    """--year within the template's bounds for 评价年度 (exit 2 otherwise)."""
    from workbook.template import default_template

    spec = default_template().inputs.get("year")
    low, high = (spec.min, spec.max) if spec is not None else (None, None)
    if (low is not None and year < low) or (high is not None and year > high):
        fail(f"--year {year} 不在模板允许的范围内（{low}–{high}）")
    return year


def check_workers(workers: int) -> int:
    if workers < 0:
        fail(f"--workers {workers} 无效：应为 0（按 CPU 核数自动）或正整数")
    return workers


def skipped_text(skipped: list[str], limit: int = 10) -> str:
    """One line listing the files skipped as clearly not spreadsheets."""
    from pathlib import Path

    names = "、".join(Path(s).name for s in skipped[:limit]) + ("…" if len(skipped) > limit else "")
    return f"已跳过 {len(skipped)} 个不是电子表格的文件（PDF、文本、图片等）：{names}"
