"""`jixiao read FILE` and `jixiao verify PATH...`."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import typer

from workbook.batchread import check_file, check_many, expand_paths
from workbook.identity import Issuance, issuance_findings
from workbook.numbers import fmt_points
from workbook.verify import Verification

from .output import fail, findings_text, print_json


def summary_line(v: Verification) -> str:
    if v.rejected:
        return f"{v.ret.file}：拒收 —— {v.ret.rejected}"
    if v.report is None:
        return f"{v.ret.file}：无法识别的工作簿（不是 jixiao 自评表）"
    unit = v.ret.unit.get("unit_name") or "（未填单位名称）"
    return (f"{v.ret.file}：{unit}  总分 {fmt_points(v.report.total)}  等次 {v.report.grade}  "
            f"错误 {v.count('error')}  警告 {v.count('warning')}")


def exit_code(results: list[Verification]) -> int:
    if any(v.rejected for v in results):
        return 2
    return 1 if any(v.has_errors for v in results) else 0


def read(
    file: Path = typer.Argument(..., help="一份报回的自评工作簿（.xlsx）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """读取一份自评表：填报数据、文件中的得分与复算得分、审核结果。"""
    if not file.exists():
        fail(f"找不到文件 {file}")
    if file.is_dir():
        fail(f"{file} 是文件夹；读取多份请用 jixiao verify")
    v = check_file(str(file))
    if as_json:
        print_json(v.to_dict())
    else:
        typer.echo(summary_line(v))
        if v.report is not None:
            for i in v.report.indicators:
                cached = v.ret.cached.get(f"score_{i.id}")
                shown = fmt_points(cached) if isinstance(cached, (int, float)) else (cached or "—")
                typer.echo(f"  {i.name}：复算 {fmt_points(i.score)} / {fmt_points(i.max)}（文件中 {shown}）  {i.basis}")
        if v.findings:
            typer.echo(findings_text(v.findings))
    raise typer.Exit(exit_code([v]))


def verify_cmd(
    paths: list[Path] = typer.Argument(..., help="文件或文件夹（递归查找）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON 数组，每个文件一个报告"),
    workers: int = typer.Option(0, "--workers", help="并行进程数（默认按 CPU 核数）"),
    db: Path = typer.Option(None, "--db", help="数据库：同时核对身份签名和下发登记簿（只读打开）"),
    key: Path = typer.Option(None, "--key", help="签名密钥文件（jixiao key export 导出）：核对身份签名"),
) -> None:
    """核验报回的自评表：复算全部得分，检查公式是否被改、数据是否缺失或矛盾；给出 --db 或 --key 时核对身份签名。"""
    issuance = _issuance(db, key)
    files, missing = expand_paths(paths)
    for m in missing:
        typer.echo(f"错误：找不到 {m}", err=True)
    if not files:
        fail("没有找到任何文件", 2)
    results: list[Verification] = []
    show_progress = not as_json and len(files) > 20 and sys.stderr.isatty()
    with typer.progressbar(length=len(files), label="核验", file=sys.stderr) if show_progress else nullcontext() as bar:
        for v in check_many(files, workers or None):
            if issuance is not None:
                v.findings.extend(issuance_findings(v.ret, issuance))
            results.append(v)
            if bar is not None:
                bar.update(1)
    if as_json:
        print_json([v.to_dict() for v in results])
    else:
        for v in results:
            typer.echo(summary_line(v))
            if v.findings and not v.rejected:
                typer.echo(findings_text(v.findings, "    "))
        rejected = sum(1 for v in results if v.rejected)
        errors = sum(1 for v in results if v.has_errors and not v.rejected)
        typer.echo(f"\n共 {len(results)} 个文件：拒收 {rejected}，有错误 {errors}，"
                   f"无错误 {len(results) - rejected - errors}。")
        if issuance is None and any(v.ret.meta.get("mac") for v in results):
            typer.echo("提示：未给出 --db 或 --key，没有核对身份签名（单位、年度是否被冒用）。")
    code = exit_code(results)
    raise typer.Exit(2 if missing else code)


def _issuance(db: Path | None, key: Path | None) -> Issuance | None:
    """The identity context of `verify --db` (key and register, read-only) or `--key` (key only)."""
    if db is not None:
        from workbook.store import Store, StoreError

        try:
            store = Store(db, create=False, readonly=True)
        except StoreError as exc:
            fail(str(exc))
        return store.issuance()
    if key is not None:
        from .history_cmd import read_key_file

        return Issuance(key=read_key_file(key))
    return None


def register(app: typer.Typer) -> None:
    app.command("read")(read)
    app.command("verify")(verify_cmd)
