"""Printing a row form's (附件3-1) report: the table of used rows, total, grade and findings."""

from __future__ import annotations

import typer

from workbook.form.rowform import RowForm
from workbook.numbers import fmt_points
from workbook.report import number
from workbook.rowengine import score_row_form

from .output import findings_text, print_json, report_dict, table


def print_row_report(form: RowForm, values: dict, as_json: bool) -> int:
    """Score and print; the exit code (1 when there are errors)."""
    known = set(form.input_keys()) | {f.key for f in form.identity}
    for key in values:
        if key not in known:
            typer.echo(f"警告：未知的输入项 {key!r}，已忽略（模板中没有这一项）", err=True)
    report = score_row_form(form, values)
    if as_json:
        d = report_dict(report)
        d["computed"] = {k: number(v) for k, v in report.computed.items()}
        print_json(d)
    else:
        rows = [[r.level1, r.name, fmt_points(r.max),
                 {"missing": "未填", "invalid": "无效"}.get(r.status, fmt_points(r.score)), r.basis]
                for r in report.indicators]
        typer.echo(table(rows, ["一级", "指标", "分值", "得分", "依据"]))
        capped = report.computed.get("total_uncapped")
        cap = f"（封顶前 {fmt_points(capped)}）" if capped is not None and capped != report.total else ""
        typer.echo(f"\n总分 {fmt_points(report.total)}{cap}　评价等次 {report.grade}")
        typer.echo("\n审核发现：\n" + findings_text(report.findings) if report.findings else "\n审核通过，无问题。")
    return 1 if report.has_errors else 0
