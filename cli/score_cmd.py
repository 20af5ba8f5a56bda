"""`jixiao score --inputs FILE.json`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from workbook.engine import score
from workbook.numbers import fmt_points
from workbook.template import TemplateError, default_template, load_template

from .output import fail, findings_text, print_json, report_dict, table


def score_command(
    inputs: Path = typer.Option(..., "--inputs", "-i", help="填报数据 JSON 文件：{输入项代码: 值}，null 表示未填"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
    template: Path = typer.Option(None, "--template", help="模板文件（默认为内置模板）"),
    form: str = typer.Option(None, "--form", help="内置表单名（jixiao template show 列出，如 zhengti、xiangmu）"),
) -> None:
    """按评分规则计算一组填报数据的得分、总分、等次和审核结果。"""
    try:
        raw = json.loads(inputs.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"找不到文件 {inputs}")
    except UnicodeDecodeError:
        fail(f"无法读取文件 {inputs}：文件编码不是 UTF-8")
    except OSError as exc:
        from workbook.outputs import os_error_zh

        fail(f"无法读取文件 {inputs}：{os_error_zh(exc)}")
    except json.JSONDecodeError as exc:
        fail(f"{inputs} 不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}")
    if not isinstance(raw, dict):
        fail(f"{inputs} 应为一个 JSON 对象 {{输入项代码: 值}}")
    values = {k: v for k, v in raw.items() if not k.startswith("_")}
    row_form = _row_form(form, template)
    if row_form is not None:
        from .rowform_out import print_row_report

        raise typer.Exit(print_row_report(row_form, values, as_json))
    try:
        t = load_template(template) if template else default_template()
    except TemplateError as exc:
        fail("模板有误：" + "；".join(exc.problems))
    for line in unknown_keys(values, t):
        typer.echo(f"警告：{line}", err=True)
    explanations = {k.removeprefix("explain_"): v for k, v in values.items() if k.startswith("explain_")}
    report = score(values, t, explanations)
    if as_json:
        print_json(report_dict(report))
    else:
        rows = [[r.level1, r.level2, r.name, fmt_points(r.max),
                 {"missing": "未填", "invalid": "无效"}.get(r.status, fmt_points(r.score)), r.basis]
                for r in report.indicators]
        typer.echo(table(rows, ["一级", "二级", "指标", "分值", "得分", "依据"]))
        typer.echo(f"\n总分 {fmt_points(report.total)}　评价等次 {report.grade}")
        if report.findings:
            typer.echo("\n审核发现：")
            typer.echo(findings_text(report.findings))
        else:
            typer.echo("\n审核通过，无问题。")
    raise typer.Exit(1 if report.has_errors else 0)


def unknown_keys(values: dict, t) -> list[str]:
    """Keys the template does not know (a typo like staf_quota would otherwise pass silently as blank)."""
    import difflib

    from workbook.checks import build_checks

    known = set(t.inputs) | set(t.form.table_columns) | {f"note_{i.id}" for i in t.indicators}
    known |= {f"explain_{c.id}" for c in build_checks(t)}
    out = []
    for key in values:
        if key in known:
            continue
        near = difflib.get_close_matches(key, sorted(known), n=1)
        out.append(f"未知的输入项 {key!r}，已忽略" + (f"（是不是 {near[0]!r}？）" if near else "（模板中没有这一项）"))
    return out


def _row_form(form: str | None, template: Path | None):
    """The row form (附件3-1) named by --form or --template, or None for an indicator form (附件3-2)."""
    from workbook.form.registry import builtin_forms, form_named
    from workbook.form.rowform import load_row_form
    from workbook.template import is_row_form

    if form:
        if template:
            fail("--form 与 --template 不能同时使用")
        info = form_named(form)
        if info is None:
            fail(f"没有名为 {form!r} 的内置表单（可用：{'、'.join(f.name for f in builtin_forms())}）")
        template = info.path
    if template is None or not template.exists() or not is_row_form(template):
        return None
    try:
        return load_row_form(template)
    except TemplateError as exc:
        fail("模板有误：" + "；".join(exc.problems))
