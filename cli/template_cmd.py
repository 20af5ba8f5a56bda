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
) -> None:
    """显示模板的指标表（一级、二级、三级指标，分值，评分规则）。"""
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
