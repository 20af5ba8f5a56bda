"""`jixiao template show|check`."""

from __future__ import annotations

from pathlib import Path

import typer

from workbook.numbers import fmt_points
from workbook.report import number
from workbook.template import TemplateError, default_template, load_template

from .output import fail, print_json, table

app = typer.Typer(help="查看或检查评分表模板。", no_args_is_help=True)


@app.command("show")
def show(
    file: Path = typer.Option(None, "--file", "-f", help="模板文件（默认为内置的附件3-2模板）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
    form: str = typer.Option(None, "--form", help="内置表单名（zhengti：附件3-2；xiangmu：附件3-1）"),
) -> None:
    """显示模板的指标表（一级、二级、三级指标，分值，评分规则），并列出内置表单。"""
    from workbook.form.registry import builtin_forms, form_named

    forms = builtin_forms()
    if form:
        info = form_named(form)
        if info is None:
            fail(f"没有名为 {form!r} 的内置表单（可用：{'、'.join(f.name for f in forms)}）")
        if info.kind == "rows":
            _show_row_form(info.path, as_json)
            return
        file = info.path
    try:
        t = load_template(file) if file else default_template()
    except TemplateError as exc:
        fail("模板有误：" + "；".join(exc.problems) + f"（{exc.path}）")
    if as_json:
        print_json({
            "id": t.id, "version": t.version, "title": t.title, "content_hash": t.content_hash,
            "levels": [{"id": lv.id, "name": lv.name, "points": number(lv.points),
                        "groups": [{"id": g.id, "name": g.name, "points": number(g.points)} for g in lv.groups]}
                       for lv in t.levels],
            "indicators": [{"id": i.id, "name": i.name, "level1": t.level(i.level).name,
                            "level2": t.group(i.group).name, "max": number(i.max), "rule": i.rule_kind,
                            "inputs": i.rule.referenced(), "criteria": i.criteria} for i in t.indicators],
            "inputs": [{"key": k, "label": s.label, "unit": s.unit, "type": s.type, "section": s.section,
                        "required": k in t.required_inputs()} for k, s in t.inputs.items()],
        })
        return
    typer.echo(f"{t.title}（模板 {t.id} 版本 {t.version}）")
    rows = [[t.level(i.level).name, t.group(i.group).name, i.name, fmt_points(i.max), i.rule_kind, i.id]
            for i in t.indicators]
    typer.echo(table(rows, ["一级指标", "二级指标", "三级指标", "分值", "规则", "指标代码"]))
    typer.echo(f"合计 {fmt_points(sum(i.max for i in t.indicators))} 分，{len(t.indicators)} 项指标，"
               f"{len(t.inputs)} 个填报项。")
    typer.echo("\n内置表单（--form 名称）：" + "；".join(f"{f.name} {f.title}（{f.id} {f.version}）" for f in forms))


def _show_row_form(path: Path, as_json: bool) -> None:
    """A row form (附件3-1): its funds table and indicator levels with their repeating rows."""
    from workbook.form.rowform import load_row_form

    try:
        t = load_row_form(path)
    except TemplateError as exc:
        fail("模板有误：" + "；".join(exc.problems) + f"（{exc.path}）")
    levels = [{"id": lv.id, "name": lv.name, "points": number(lv.points), "rows": lv.rows,
               "groups": list(lv.groups), "row_keys": f"ind_{lv.id}_<1..{lv.rows}>_<列>"} for lv in t.levels]
    if as_json:
        print_json({"id": t.id, "version": t.version, "title": t.title, "kind": "rows", "content_hash": t.content_hash,
                    "funds_points": number(t.params.funds_points), "levels": levels,
                    "row_columns": [{"key": c.key, "label": c.label} for c in t.row_columns],
                    "natures": dict(t.params.natures), "inputs": t.input_keys()})
        return
    typer.echo(f"{t.title}（模板 {t.id} 版本 {t.version}，每个项目一份）")
    rows = [[t.funds.label, "执行率", fmt_points(t.params.funds_points), "—"]]
    rows += [[lv.name, "、".join(lv.groups), fmt_points(lv.points), f"{lv.rows} 行"] for lv in t.levels]
    typer.echo(table(rows, ["一级指标", "二级指标", "分值", "空行"]))
    typer.echo("每行填写：" + "、".join(c.label for c in t.row_columns) + "；指标性质："
               + "、".join(t.params.natures) + f"。共 {len(t.input_keys())} 个填报项。")


@app.command("check")
def check(file: Path = typer.Argument(..., help="要检查的模板文件（TOML）", metavar="文件")) -> None:
    """检查模板：未知输入项、重复代码、分值不符、分档重叠或空档、缺少标签。

    退出码：0 通过；1 模板有错误（逐条列出）；2 文件不存在或无法读取。
    """
    if not file.exists():
        fail(f"找不到模板文件 {file}")
    if file.is_dir():
        fail(f"{file} 是文件夹，请给出模板文件（.toml）")
    try:
        t = load_template(file)
    except TemplateError as exc:
        typer.echo(f"模板 {exc.path} 有 {len(exc.problems)} 处错误：", err=True)
        for p in exc.problems:
            typer.echo(f"  - {p}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"模板 {file} 检查通过：{len(t.indicators)} 项指标，合计 "
               f"{fmt_points(sum(i.max for i in t.indicators))} 分。")
