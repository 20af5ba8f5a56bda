"""`jixiao read FILE` and `jixiao verify PATH...`."""

from __future__ import annotations

import sys
from contextlib import ExitStack, closing
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from workbook.numbers import fmt_points

from .output import check_workers, fail, findings_text, json_text, print_json, skipped_text

if TYPE_CHECKING:
    from workbook.identity import Issuance
    from workbook.verify import Verification


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
    file: Path = typer.Argument(..., help="一份报回的自评工作簿（.xlsx）", metavar="文件"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """读取一份自评表：填报数据、文件中的得分与复算得分、审核结果。"""
    if not file.exists():
        fail(f"找不到文件 {file}")
    if file.is_dir():
        fail(f"{file} 是文件夹；读取多份请用 jixiao verify")
    from workbook.batchread import check_file

    try:
        v = check_file(str(file))
    except Exception as exc:  # noqa: BLE001 - a bug in jixiao, not the unit's fault
        import os

        if os.environ.get("JIXIAO_DEBUG"):
            raise
        fail(f"读取 {file} 时发生 jixiao 内部错误（{type(exc).__name__}: {exc}）。这不是该文件的问题，"
             "请把这条信息和文件交给维护人员（设置 JIXIAO_DEBUG=1 可看到详细信息）", 3)
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
    paths: list[Path] = typer.Argument(..., help="文件或文件夹（递归查找）", metavar="路径"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON 数组，每个文件一个报告"),
    workers: int = typer.Option(0, "--workers", help="并行进程数（默认按 CPU 核数）"),
    db: Path = typer.Option(None, "--db", help="数据库：同时核对身份签名和下发登记簿（只读打开）"),
    key: Path = typer.Option(None, "--key", help="签名密钥文件（jixiao key export 导出）：核对身份签名"),
) -> None:
    """核验报回的自评表：复算全部得分，检查公式是否被改、数据是否缺失或矛盾；给出 --db 或 --key 时核对身份签名。

    每个文件核验完即输出（内存不随文件数增长）。退出码：0 无错误；1 有“错误”级问题；2 有拒收的文件或路径不存在。
    """
    from workbook.batchread import check_many, scan_paths
    from workbook.identity import issuance_findings

    check_workers(workers)
    issuance = _issuance(db, key)
    scan = scan_paths(paths)
    for m in scan.missing:
        typer.echo(f"错误：找不到 {m}", err=True)
    if scan.skipped:
        typer.echo(skipped_text([str(f) for f in scan.skipped]), err=True)
    if not scan.files:
        fail("没有找到任何文件", 2)
    counts = {"files": 0, "rejected": 0, "errors": 0}
    signed = False
    show_progress = not as_json and len(scan.files) > 20 and sys.stderr.isatty() and not sys.stdout.isatty()
    if as_json:
        typer.echo("[")
    try:
        with ExitStack() as stack:
            bar = stack.enter_context(typer.progressbar(length=len(scan.files), label="核验", file=sys.stderr)) \
                if show_progress else None
            results = stack.enter_context(closing(check_many(scan.files, workers or None)))
            for v in results:  # one result at a time: printed, counted, dropped
                if issuance is not None:
                    v.findings.extend(issuance_findings(v.ret, issuance))
                signed = signed or bool(v.ret.meta.get("mac"))
                if as_json:
                    text = json_text(v.to_dict())
                    typer.echo(("," if counts["files"] else "") + text)
                else:
                    typer.echo(summary_line(v))
                    if v.findings and not v.rejected:
                        typer.echo(findings_text(v.findings, "    "))
                counts["files"] += 1
                counts["rejected"] += v.rejected
                counts["errors"] += v.has_errors and not v.rejected
                if bar is not None:
                    bar.update(1)
    except KeyboardInterrupt:
        if as_json:
            typer.echo("]")
        typer.echo(f"\n已中断：已核验 {counts['files']} / {len(scan.files)} 个文件（核验不写入任何文件）；"
                   "重新运行同一命令即可。", err=True)
        raise typer.Exit(130) from None
    if as_json:
        typer.echo("]")
    else:
        typer.echo(f"\n共 {counts['files']} 个文件：拒收 {counts['rejected']}，有错误 {counts['errors']}，"
                   f"无错误 {counts['files'] - counts['rejected'] - counts['errors']}。")
        if issuance is None and signed:
            typer.echo("提示：未给出 --db 或 --key，没有核对身份签名（单位、年度是否被冒用）。")
    code = 2 if counts["rejected"] or scan.missing else (1 if counts["errors"] else 0)
    raise typer.Exit(code)


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
        from workbook.identity import Issuance

        from .history_cmd import read_key_file

        return Issuance(key=read_key_file(key))
    return None


def register(app: typer.Typer) -> None:
    app.command("read")(read)
    app.command("verify")(verify_cmd)
