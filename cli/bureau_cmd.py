"""Bureau commands: collect, status, consolidate, demo."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from workbook.collect import collect
from workbook.consolidate import consolidate
from workbook.generate.roster import RosterError, read_roster
from workbook.status import HELD, MISSING, PASSED, unit_status
from workbook.store import OUTCOME_ZH, Store, StoreError

from .output import fail, print_json, table

DB_HELP = "数据库文件（默认为当前目录下的 jixiao.sqlite）"


def _roster(path: Path | None, year: int):
    if path is None:
        return None
    try:
        return read_roster(path, year)
    except RosterError as exc:
        fail(f"花名册 {exc.path} 有问题：" + "；".join(exc.problems[:10]))


def _store(db: Path, create: bool = True, readonly: bool = False) -> Store:
    try:
        return Store(db, create=create, readonly=readonly)
    except StoreError as exc:
        fail(str(exc))


def _refuse_output(output: Path, db: Path) -> None:
    """Never write an export over the store itself, or over an existing file that is not a workbook."""
    target = output.resolve()
    store = db.resolve()
    if target in {store, Path(str(store) + "-wal"), Path(str(store) + "-shm")}:
        fail(f"输出文件 {output} 就是数据库 {db}：不能用汇总工作簿覆盖数据库，请换一个输出文件名")
    if output.is_dir():
        fail(f"输出 {output} 是一个文件夹，请给出 .xlsx 文件名")
    if output.exists() and output.stat().st_size:
        with output.open("rb") as fh:
            head = fh.read(4)
        if head != b"PK\x03\x04":
            fail(f"输出文件 {output} 已存在且不是 .xlsx 工作簿（可能是数据库或其他文件），不予覆盖；请换一个输出文件名")


def collect_cmd(
    paths: list[Path] = typer.Argument(..., help="报回的文件或文件夹（递归查找）"),
    db: Path = typer.Option(Path("jixiao.sqlite"), "--db", help=DB_HELP),
    workers: int = typer.Option(0, "--workers", help="并行进程数（默认按 CPU 核数）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON：各类计数、拒收、待核实、被取代和旧版本"),
) -> None:
    """收集报回的自评表：逐个核验（含身份签名）后存入数据库（保留每一次报送），坏文件不会中断整批。"""
    store = _store(db)
    from workbook.batchread import expand_paths

    files, missing = expand_paths(paths)
    start = time.perf_counter()
    try:
        with typer.progressbar(length=len(files), label="收集", file=sys.stderr) as bar:
            summary = collect(paths, store, workers or None, on_file=lambda v, o: bar.update(1))
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()
    elapsed = time.perf_counter() - start
    code = 2 if summary.rejected_count else (1 if summary.held_count else 0)
    if as_json:
        print_json(summary.to_dict() | {"db": str(db), "seconds": round(elapsed, 2)})
        raise typer.Exit(code)
    typer.echo(f"共 {summary.files} 个文件（{elapsed:.1f} 秒）：新收 {summary.new}，更新 {summary.updated}，"
               f"重复 {summary.duplicate}，旧版本 {summary.counts['older']}，待核实 {summary.held_count}，"
               f"拒收 {summary.rejected_count}，有错误 {summary.with_errors}。数据库：{db}")
    for s in summary.superseded:
        typer.echo(f"  更新 {s['unit']}：{s['new']}（#{s['new_id']}）取代了 {s['old']}（#{s['old_id']}）")
    for o in summary.older:
        how = "重新报送了已收过的旧版本" if o["resent"] else "比当前报表旧（按工作簿保存时间），仅存为历史"
        typer.echo(f"  旧版本 {o['unit']}：{o['file']}（#{o['id']}）{how}；当前仍为 {o['current']}（#{o['current_id']}）")
    for unit, fs in summary.versions.items():
        typer.echo(f"  同一单位本批有 {len(fs)} 个版本 {unit}：" + "、".join(fs) + "（按工作簿保存时间取最新者为当前）")
    for path, reason in summary.held:
        typer.echo(f"  待核实 {path}：{reason}")
    for path, reason in summary.rejected:
        typer.echo(f"  拒收 {path}：{reason}")
    raise typer.Exit(code)


def status_cmd(
    year: int = typer.Option(..., "--year", help="评价年度"),
    roster: Path = typer.Option(None, "--roster", help="花名册（CSV 或 .xlsx），用于列出未报送单位"),
    db: Path = typer.Option(Path("jixiao.sqlite"), "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """报送情况：未报送、有错误、有警告未说明、通过。"""
    units = _roster(roster, year)
    store = _store(db, readonly=True)
    try:
        statuses = unit_status(store, year, units)
        held, rejected = store.held(year), store.rejected(outstanding=True)
    finally:
        store.close()
    if as_json:
        print_json([s.to_dict() for s in statuses])
        return
    rows = [[s.state, s.budget_code, s.unit_name, s.parent_dept,
             "" if s.total is None else f"{s.total:g}", s.grade or "", str(s.errors), str(s.unexplained_warnings),
             str(s.submissions) + ("" if s.in_roster else "（不在花名册）")] for s in statuses]
    typer.echo(table(rows, ["状态", "预算编码", "单位名称", "主管部门", "总分", "等次", "错误", "未说明警告", "报送次数"]))
    counts = {k: sum(1 for s in statuses if s.state == k) for k in (MISSING, HELD, "有错误", "有警告未说明", PASSED)}
    typer.echo("\n" + "，".join(f"{k} {v}" for k, v in counts.items()) + f"（共 {len(statuses)} 个单位，{year} 年度）")
    if held:
        typer.echo(f"\n身份待核实的报表（{len(held)} 份，不会成为当前报表）：")
        for h in held:
            typer.echo(f"  #{h['id']} {h['source_path']}（自称 {h['budget_code'] or '—'} {h['unit_name'] or ''}）：{h['hold']}")
    if rejected:
        typer.echo(f"\n拒收且尚未重新报送的文件（{len(rejected)} 个）：")
        for r in rejected:
            typer.echo(f"  {r['source_path']}：{r['reason']}（{r['last_seen']}，共 {r['times']} 次）")


def consolidate_cmd(
    year: int = typer.Option(..., "--year", help="评价年度"),
    output: Path = typer.Option(..., "--output", "-o", help="汇总工作簿（.xlsx）"),
    db: Path = typer.Option(Path("jixiao.sqlite"), "--db", help=DB_HELP),
    roster: Path = typer.Option(None, "--roster", help="花名册，用于“未报送”表"),
    csv: Path = typer.Option(None, "--csv", help="同时把各表写成 CSV（UTF-8 带 BOM）到此目录"),
    region: str = typer.Option(None, "--region", help="地区名称，显示在各表标题中（默认为模板中的“岳阳楼区”）"),
) -> None:
    """生成全区汇总工作簿：汇总、分部门汇总、指标分析、审核结果、财务汇总、未报送、图表。"""
    units = _roster(roster, year)
    _refuse_output(output, db)
    store = _store(db, readonly=True)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        tables = consolidate(store, year, output, units, csv, region=region)
    except OSError as exc:
        fail(f"无法写入 {output}：{exc}")
    finally:
        store.close()
    n = len(tables.frames["汇总"])
    typer.echo(f"已生成 {output}：{year} 年度 {n} 个单位" + (f"，CSV 在 {csv}" if csv else "") + "。")
    if tables.excluded:
        typer.echo(f"其中 {tables.excluded} 份报表有错误，已列在“汇总”表末尾，不计入排名、平均和财务汇总。")
    if n == 0:
        typer.echo(f"提示：数据库中没有 {year} 年度的报表。", err=True)


def demo_cmd(
    out_dir: Path = typer.Option(Path("jixiao-demo"), "--out-dir", help="演示输出目录"),
) -> None:
    """演示完整流程：花名册 → 生成工作簿 → 单位报回（模拟）→ 收集 → 报送情况 → 全区汇总。"""
    from workbook.demo import run_demo

    start = time.perf_counter()
    typer.echo("jixiao 演示（种子单位来自真实的 2021 年自评报告，其余为合成演示单位）\n")
    result = run_demo(out_dir, step=lambda s: typer.echo("· " + s))
    typer.echo("\n报回文件及其演示内容：")
    for name, what in result.scenarios.items():
        typer.echo(f"  {name}：{what}")
    typer.echo("\n报送情况：")
    rows = [[s.state, s.budget_code, s.unit_name, "" if s.total is None else f"{s.total:g}", s.grade or "",
             str(s.errors), str(s.unexplained_warnings)] for s in result.status]
    typer.echo(table(rows, ["状态", "预算编码", "单位名称", "总分", "等次", "错误", "未说明警告"]))
    typer.echo(f"\n输出：\n  花名册        {result.roster}\n  下发工作簿    {result.workbooks}\n"
               f"  报回文件      {result.returns}\n  数据库        {result.db}\n  全区汇总      {result.district}\n"
               f"  CSV           {result.csv_dir}")
    for path, reason in result.collected.rejected:
        typer.echo(f"\n{OUTCOME_ZH['rejected']}：{Path(path).name}：{reason}")
    typer.echo(f"\n用时 {time.perf_counter() - start:.1f} 秒。用 Excel、WPS 或 LibreOffice 打开汇总工作簿查看结果。")


def register(app: typer.Typer) -> None:
    from . import history_cmd

    history_cmd.register(app)
    app.command("collect")(collect_cmd)
    app.command("status")(status_cmd)
    app.command("consolidate")(consolidate_cmd)
    app.command("demo")(demo_cmd)
