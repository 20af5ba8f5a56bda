"""Bureau commands: collect, status, consolidate, demo."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .output import check_workers, check_year, fail, print_json, skipped_text, table

if TYPE_CHECKING:
    from workbook.store import Store

DB_HELP = "数据库文件（默认为当前目录下的 jixiao.sqlite）"
FORCE_HELP = "输出文件已存在时覆盖（默认不覆盖任何已有文件）"


def _roster(path: Path | None, year: int):
    if path is None:
        return None
    from workbook.form.roster import RosterError, read_roster

    notices: list[str] = []
    try:
        units = read_roster(path, year, notices=notices)
    except RosterError as exc:
        fail(f"花名册 {exc.path} 有问题：" + "；".join(exc.problems[:10]))
    for line in notices:
        typer.echo(f"提示：{line}", err=True)
    return units


def _store(db: Path, create: bool = True, readonly: bool = False) -> Store:
    from workbook.store import Store, StoreError

    if db.is_dir():
        fail(f"数据库 {db} 是一个文件夹，请给出数据库文件名（如 {db / 'jixiao.sqlite'}）")
    try:
        return Store(db, create=create, readonly=readonly)
    except StoreError as exc:
        fail(str(exc))


def _error_units(pairs: list[tuple[str, str]], limit: int = 20) -> None:
    for path, unit in pairs[:limit]:
        typer.echo(f"  有错误 {unit or '（未填单位名称）'}：{path}")
    if len(pairs) > limit:
        typer.echo(f"  ……另有 {len(pairs) - limit} 份")


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
    paths: list[Path] = typer.Argument(..., help="报回的文件或文件夹（递归查找）", metavar="路径"),
    db: Path = typer.Option(Path("jixiao.sqlite"), "--db", help=DB_HELP),
    workers: int = typer.Option(0, "--workers", help="并行进程数（默认按 CPU 核数）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON：各类计数、拒收、待核实、被取代和旧版本"),
) -> None:
    """收集报回的自评表：逐个核验（含身份签名）后存入数据库（保留每一次报送），坏文件不会中断整批。

    退出码：0 全部收下且无错误；1 有“错误”级或待核实的报表；2 有拒收的文件；130 被中断（已收的保留）。
    """
    from workbook.batchread import scan_paths
    from workbook.collect import CollectSummary, collect
    from workbook.store import StoreError

    check_workers(workers)
    store = _store(db)
    scan = scan_paths(paths)
    if scan.skipped:
        typer.echo(skipped_text([str(f) for f in scan.skipped]), err=True)
    summary = CollectSummary()
    start = time.perf_counter()
    try:
        with typer.progressbar(length=len(scan.files), label="收集", file=sys.stderr) as bar:
            collect(paths, store, workers or None, on_file=lambda v, o: bar.update(1), scan=scan, summary=summary)
    except StoreError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        typer.echo(f"\n已中断：本次已处理 {summary.stored} 个文件并完整存入数据库 {db}（新收 {summary.new}，"
                   f"更新 {summary.updated}，重复 {summary.duplicate}，拒收 {summary.rejected_count}），"
                   f"其余 {len(scan.files) - summary.stored} 个未处理；重新运行同一命令即可继续（已收的会记为重复）。",
                   err=True)
        raise typer.Exit(130) from None
    finally:
        store.close()
    elapsed = time.perf_counter() - start
    code = 2 if summary.rejected_count else (1 if summary.held_count or summary.with_errors else 0)
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
    _error_units(summary.error_files)
    raise typer.Exit(code)


def status_cmd(
    year: int = typer.Option(..., "--year", help="评价年度"),
    roster: Path = typer.Option(None, "--roster", help="花名册（CSV 或 .xlsx），用于列出未报送单位"),
    db: Path = typer.Option(Path("jixiao.sqlite"), "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
    form: str = typer.Option(None, "--form", help="按项目报送的表单（xiangmu：附件3-1）：逐个项目列出当前报表"),
) -> None:
    """报送情况：未报送、有错误、有警告未说明、通过；每个单位当前的附件3-1 项目表数。

    退出码：0 没有“错误”级报表；1 有单位的当前报表有错误（并列出这些单位）。
    """
    from workbook.status import ERRORS, HELD, MISSING, PASSED, cross_form, unit_status, years_present

    check_year(year)
    if form not in (None, "zhengti", "jixiao.zhengti"):
        _project_status(form, year, db, as_json)
    units = _roster(roster, year)
    store = _store(db, readonly=True)
    try:
        statuses = unit_status(store, year, units)
        held, rejected = store.held(year), store.rejected(outstanding=True)
        years = years_present(store)
        crossed = cross_form(store, year)
    finally:
        store.close()
    with_errors = [s for s in statuses if s.state == ERRORS]
    code = 1 if with_errors else 0
    if as_json:
        by_unit: dict[str, list[dict]] = {}
        for f in crossed or []:
            by_unit.setdefault(f.budget_code, []).append(f.to_dict())
        print_json([s.to_dict() | ({"cross_form": by_unit.get(s.budget_code, [])} if crossed is not None else {})
                    for s in statuses])
        raise typer.Exit(code)
    if year not in years:
        other = "、".join(str(y) for y in years) if years else "无"
        typer.echo(f"提示：数据库 {db} 中没有 {year} 年度的报表（已有年度：{other}）。", err=True)
    rows = [[s.state, s.budget_code, s.unit_name, s.parent_dept,
             "" if s.total is None else f"{s.total:g}", s.grade or "", str(s.errors), str(s.unexplained_warnings),
             str(s.submissions) + ("" if s.in_roster else "（不在花名册）")] for s in statuses]
    head = ["状态", "预算编码", "单位名称", "主管部门", "总分", "等次", "错误", "未说明警告", "报送次数"]
    if any(s.projects for s in statuses):  # per-project returns (附件3-1) collected this year
        for row, s in zip(rows, statuses, strict=True):
            row.append(f"{s.projects}" + (f"（有错误 {s.project_errors}）" if s.project_errors else "") if s.projects else "")
        head.append("附件3-1")
    typer.echo(table(rows, head))
    counts = {k: sum(1 for s in statuses if s.state == k) for k in (MISSING, HELD, "有错误", "有警告未说明", PASSED)}
    typer.echo("\n" + "，".join(f"{k} {v}" for k, v in counts.items()) + f"（共 {len(statuses)} 个单位，{year} 年度）")
    if held:
        typer.echo(f"\n身份待核实的报表（{len(held)} 份，不会成为当前报表）：")
        for h in held:
            project = f" 项目“{h['project_name'] or h['project_key']}”" if h["project_key"] else ""
            typer.echo(f"  #{h['id']} {h['source_path']}（自称 {h['budget_code'] or '—'} {h['unit_name'] or ''}{project}）："
                       f"{h['hold']}")
    if rejected:
        typer.echo(f"\n拒收且尚未重新报送的文件（{len(rejected)} 个）：")
        for r in rejected:
            typer.echo(f"  {r['source_path']}：{r['reason']}（{r['last_seen']}，共 {r['times']} 次）")
    if crossed:
        _cross_form_text(crossed)
    if with_errors:
        typer.echo("有错误的单位（须改正后重新报送）：" + "、".join(f"{s.unit_name}（{s.budget_code}）" for s in with_errors))
    raise typer.Exit(code)


def _cross_form_text(findings: list) -> None:
    """The cross-form section of `status`: warnings first, then the units that could not be checked."""
    warnings = [f for f in findings if f.severity == "warning"]
    others = [f for f in findings if f.severity != "warning"]
    typer.echo(f"\n跨表核对（附件3-1 与附件3-2）：警告 {len(warnings)}，未核对 {len(others)}")
    for f in warnings + others:
        mark = "警告" if f.severity == "warning" else "提示"
        typer.echo(f"  {mark} {f.unit_name}（{f.budget_code}）：{f.message}")


def _project_status(name: str, year: int, db: Path, as_json: bool) -> None:
    """`status --form xiangmu`: every project's current return (or 待核实), then exit (1 when one has errors)."""
    from workbook.form.registry import builtin_forms, form_named
    from workbook.status import ERRORS, HELD, PASSED, UNEXPLAINED, project_status

    info = form_named(name)
    if info is None:
        fail(f"没有名为 {name!r} 的内置表单（可用：{'、'.join(f.name for f in builtin_forms())}）")
    if info.kind != "rows":
        fail(f"表单 {name} 按单位报送，请不加 --form 查看报送情况")
    store = _store(db, readonly=True)
    try:
        statuses = project_status(store, year, info.id)
    finally:
        store.close()
    with_errors = [s for s in statuses if s.state == ERRORS]
    code = 1 if with_errors else 0
    if as_json:
        print_json([s.to_dict() for s in statuses])
        raise typer.Exit(code)
    if not statuses:
        typer.echo(f"数据库 {db} 中没有 {year} 年度的{info.title}。")
        raise typer.Exit(0)
    rows = [[s.state, s.budget_code, s.unit_name, s.project_name, s.project_code,
             "" if s.total is None else f"{s.total:g}", s.grade or "", str(s.errors), str(s.unexplained_warnings),
             str(s.submissions), s.file or ""] for s in statuses]
    typer.echo(table(rows, ["状态", "预算编码", "单位名称", "项目名称", "项目编码", "总分", "等次", "错误", "未说明警告",
                            "报送次数", "文件"]))
    counts = {k: sum(1 for s in statuses if s.state == k) for k in (HELD, ERRORS, UNEXPLAINED, PASSED)}
    units = len({s.budget_code for s in statuses})
    typer.echo("\n" + "，".join(f"{k} {v}" for k, v in counts.items())
               + f"（共 {len(statuses)} 个项目、{units} 个单位，{year} 年度{info.title}）")
    for s in statuses:
        if s.state == HELD:
            typer.echo(f"  待核实 #{s.submission_id} {s.file}：{s.hold}")
    if with_errors:
        typer.echo("有错误的项目（须改正后重新报送）：" + "、".join(f"{s.unit_name}（{s.budget_code}）“{s.project_name}”"
                                                      for s in with_errors))
    raise typer.Exit(code)


def consolidate_cmd(
    year: int = typer.Option(..., "--year", help="评价年度"),
    output: Path = typer.Option(..., "--output", "-o", help="汇总工作簿（.xlsx）"),
    db: Path = typer.Option(Path("jixiao.sqlite"), "--db", help=DB_HELP),
    roster: Path = typer.Option(None, "--roster", help="花名册，用于“未报送”表"),
    csv: Path = typer.Option(None, "--csv", help="同时把各表写成 CSV（UTF-8 带 BOM）到此目录"),
    region: str = typer.Option(None, "--region", help="地区名称，显示在各表标题中（默认为模板中的“岳阳楼区”）"),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON：写出的文件、单位数、各等次单位数"),
    form: str = typer.Option(None, "--form", help="按项目报送的表单（xiangmu：附件3-1）：生成项目支出汇总工作簿"),
) -> None:
    """生成全区汇总工作簿：汇总、分部门汇总、指标分析、审核结果、财务汇总、未报送、图表。

    加 --form xiangmu 生成项目支出（附件3-1）汇总：项目明细、单位汇总、主管部门汇总、执行率分布、未达标指标、跨表核对。
    """
    from workbook.consolidate import consolidate
    from workbook.outputs import OutputError, check_target, prepare_dir

    check_year(year)
    _refuse_output(output, db)
    if form not in (None, "zhengti", "jixiao.zhengti"):
        _project_consolidate(form, year, output, db, roster, csv, region, force, as_json)
    try:  # every target is checked before the store is read
        check_target(output, (".xlsx",), force)
        if csv is not None:
            prepare_dir(csv)
    except OutputError as exc:
        fail(str(exc))
    units = _roster(roster, year)
    tables = _write_from_store(db, output, lambda store: consolidate(store, year, output, units, csv, region=region,
                                                                     force=force))
    n = len(tables.frames["汇总"])
    if as_json:
        print_json({"year": year, "output": str(output), "csv_dir": str(csv) if csv else None,
                    "csv_files": [str(Path(csv) / f"{name}.csv") for name in
                                  [*tables.frames, *(["审核结果"] if tables.findings is not None else [])]] if csv else [],
                    "units": n, "excluded": tables.excluded, "grades": tables.grade_counts,
                    "missing": len(tables.frames["未报送"]) if units is not None else None})
    else:
        typer.echo(f"已生成 {output}：{year} 年度 {n} 个单位" + (f"，CSV 在 {csv}" if csv else "") + "。")
        if tables.excluded:
            typer.echo(f"其中 {tables.excluded} 份报表有错误，已列在“汇总”表末尾，不计入排名、平均和财务汇总。")
    if n == 0:
        typer.echo(f"提示：数据库中没有 {year} 年度的报表。", err=True)


def _write_from_store(db: Path, output: Path, write):
    """`write(store)` on the store opened read-only: a refused output exits 2, Ctrl-C exits 130 with nothing written."""
    from workbook.outputs import OutputError

    store = _store(db, readonly=True)
    try:
        return write(store)
    except OutputError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        typer.echo(f"\n已中断：没有写出任何文件（{output} 保持原样）；重新运行同一命令即可。", err=True)
        raise typer.Exit(130) from None
    finally:
        store.close()


def _project_consolidate(name: str, year: int, output: Path, db: Path, roster: Path | None, csv: Path | None,
                         region: str | None, force: bool, as_json: bool) -> None:
    """`consolidate --form xiangmu`: the 项目支出 district workbook, then exit."""
    from workbook.form.project_roster import read_project_roster
    from workbook.form.registry import builtin_forms, form_named
    from workbook.form.roster import RosterError
    from workbook.form.rowform import load_row_form
    from workbook.outputs import OutputError, check_target, prepare_dir
    from workbook.project_district import consolidate_projects

    info = form_named(name)
    if info is None:
        fail(f"没有名为 {name!r} 的内置表单（可用：{'、'.join(f.name for f in builtin_forms())}）")
    if info.kind != "rows":
        fail(f"表单 {name} 按单位报送，请不加 --form 生成汇总")
    try:
        check_target(output, (".xlsx",), force)
        if csv is not None:
            prepare_dir(csv)
    except OutputError as exc:
        fail(str(exc))
    units = None
    if roster is not None:
        try:
            units = read_project_roster(roster, year, load_row_form(info.path))
        except RosterError as exc:
            fail(f"项目花名册 {exc.path} 有问题：" + "；".join(exc.problems[:10]))
    tables = _write_from_store(db, output, lambda store: consolidate_projects(store, year, output, csv, region=region,
                                                                              force=force, roster=units))
    n = tables.included + tables.excluded
    crossed = tables.cross_findings
    if as_json:
        print_json({"year": year, "form": info.id, "output": str(output), "csv_dir": str(csv) if csv else None,
                    "projects": n, "excluded": tables.excluded,
                    "cross_form": [f.to_dict() for f in crossed]})
    else:
        typer.echo(f"已生成 {output}：{year} 年度{info.title} {n} 个项目" + (f"，CSV 在 {csv}" if csv else "") + "。")
        if tables.excluded:
            typer.echo(f"其中 {tables.excluded} 份项目表有错误，已在“项目明细”中标出，不计入合计、平均和分布。")
        warned = sum(1 for f in crossed if f.severity == "warning")
        if warned:
            typer.echo(f"跨表核对：{warned} 个单位有警告（见“跨表核对”表）。")
    if n == 0:
        typer.echo(f"提示：数据库中没有 {year} 年度的{info.title}。", err=True)
    raise typer.Exit(0)


def demo_cmd(
    out_dir: Path = typer.Option(Path("jixiao-demo"), "--out-dir", help="演示输出目录"),
) -> None:
    """演示完整流程：花名册 → 生成工作簿 → 单位报回（模拟）→ 收集 → 报送情况 → 全区汇总。

    只写入新的或空的文件夹（或以前演示建立的文件夹），不会覆盖其他文件。
    """
    from workbook.demo import demo_folder, run_demo
    from workbook.outputs import OutputError
    from workbook.store import OUTCOME_ZH

    try:
        demo_folder(out_dir)
    except OutputError as exc:
        fail(str(exc))
    start = time.perf_counter()
    typer.echo("jixiao 演示（种子单位来自真实的 2021 年自评报告，其余为合成演示单位）\n")
    try:
        result = run_demo(out_dir, step=lambda s: typer.echo("· " + s))
    except OutputError as exc:
        fail(str(exc))
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
    projects = result.projects
    if projects is not None and projects.district is not None:
        typer.echo(f"  项目花名册    {projects.roster}\n  项目工作簿    {projects.workbooks}\n"
                   f"  项目报回      {projects.returns}\n  项目支出汇总  {projects.district}")
        warned = [f for f in projects.cross_findings if f.severity == "warning"]
        if warned:
            typer.echo("\n跨表核对（附件3-1 与附件3-2）：")
            for f in warned:
                typer.echo(f"  警告 {f.unit_name}（{f.budget_code}）：{f.message}")
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
