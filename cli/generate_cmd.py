"""`jixiao generate`: one workbook, or one per roster row."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .output import check_year, fail

if TYPE_CHECKING:
    from workbook.generate.api import Unit, WorkbookFactory


def generate(
    output: Path = typer.Option(None, "--output", "-o", help="生成单个工作簿：输出文件（.xlsx）"),
    unit_name: str = typer.Option(None, "--unit-name", help="单位名称"),
    budget_code: str = typer.Option(None, "--budget-code", help="预算编码"),
    parent_dept: str = typer.Option(None, "--parent-dept", help="主管部门"),
    year: int = typer.Option(..., "--year", help="评价年度，如 2021"),
    roster: Path = typer.Option(None, "--roster", help="花名册（CSV 或 .xlsx），每行一个单位"),
    out_dir: Path = typer.Option(None, "--out-dir", help="批量生成的输出目录"),
    password: str = typer.Option(None, "--password", help="工作表保护密码（默认 jixiao2021）"),
    db: Path = typer.Option(None, "--db", help="数据库（批量生成时默认 jixiao.sqlite）：登记下发的工作簿并签名，"
                                              "用上年报表预填上年数"),
    region: str = typer.Option(None, "--region", help="地区名称，显示在封面标题上（默认为模板中的“岳阳楼区”）"),
    bureau: str = typer.Option(None, "--bureau", help="下发单位（财政局）名称，显示在封面和填报说明中（默认为“<地区>财政局”）"),
    force: bool = typer.Option(False, "--force", help="输出文件已存在时覆盖（默认不覆盖任何已有文件）"),
    form: str = typer.Option(None, "--form", help="内置表单名：zhengti（附件3-2，默认）或 xiangmu（附件3-1，按项目花名册每个项目一份）"),
) -> None:
    """生成单位填报用的锁定工作簿（单个，或按花名册批量），登记到数据库并写入身份签名。已有的文件不会被覆盖，除非加 --force。"""
    if roster is None and output is None:
        fail("请用 -o 指定输出文件（单个单位），或用 --roster 和 --out-dir 批量生成", 2)
    if roster is not None and output is not None:
        fail("-o 与 --roster 不能同时使用", 2)
    check_year(year)
    if form not in (None, "zhengti", "jixiao.zhengti"):
        from .generate_rows import generate_projects

        generate_projects(form, roster, out_dir, year, password, force, db)
        return
    from workbook.form.roster import RosterError, read_roster
    from workbook.generate.api import DEFAULT_PASSWORD, Unit, WorkbookFactory
    from workbook.outputs import OutputError, check_target, prepare_dir

    password = password or DEFAULT_PASSWORD
    if roster is None:
        if not unit_name or not budget_code:
            fail("生成单个工作簿需要 --unit-name 和 --budget-code", 2)
        try:
            check_target(output, (".xlsx",), force)
        except OutputError as exc:
            fail(str(exc))
        unit = Unit(unit_name, budget_code, year, parent_dept)
        store = _open_store(db) if db else None
        factory = WorkbookFactory(password=password, key=store.key if store else None, region=region, bureau=bureau)
        if store:
            _prefill_from_store([unit], store, year)
        issued: list[dict] = []
        try:
            factory.write(output, unit, return_id=_issue(issued, factory, unit, output), force=force)
        except OutputError as exc:
            if store:
                store.close()
            fail(str(exc))
        _register(store, issued)
        typer.echo(f"已生成 {output}（{unit_name}，{year} 年度）" + (f"，已登记到 {db} 并签名" if store else
                   "。未指定 --db：未登记、未签名，收集时按未签名报表处理"))
        return
    if out_dir is None:
        fail("批量生成需要 --out-dir 指定输出目录", 2)
    notices: list[str] = []
    try:
        units = read_roster(roster, year, notices=notices)
    except RosterError as exc:
        roster_failed("花名册", exc)
    for line in notices:
        typer.echo(f"提示：{line}", err=True)
    try:
        prepare_dir(out_dir)
    except OutputError as exc:
        fail(str(exc))
    from workbook.generate.batch import generate_batch

    db = db or Path("jixiao.sqlite")
    store = _open_store(db)
    factory = WorkbookFactory(password=password, key=store.key, region=region, bureau=bureau)
    prefilled = _prefill_from_store(units, store, year)
    issued: list[dict] = []
    start = time.perf_counter()

    def write() -> list[Path]:
        with typer.progressbar(length=len(units), label="生成工作簿", file=sys.stderr) as bar:
            return generate_batch(units, out_dir, factory, on_progress=lambda u, p: bar.update(1),
                                  return_id=lambda u, p: _issue(issued, factory, u, p), force=force)

    paths = issue_all(store, out_dir, write)
    _register(store, issued)
    ms = (time.perf_counter() - start) * 1000 / max(1, len(paths))
    typer.echo(f"已为 {len(paths)} 个单位生成 {year} 年度自评工作簿，保存在 {out_dir}（平均每个 {ms:.1f} 毫秒），"
               f"已登记到数据库 {db} 并写入身份签名。")
    if prefilled:
        typer.echo(f"其中 {prefilled} 个单位已用上年报表预填上年数。")


def roster_failed(what: str, exc) -> None:
    """A roster's problems (up to 50, each naming its line) on stderr, then exit 2."""
    typer.echo(f"错误：{what} {exc.path} 有 {len(exc.problems)} 处问题：", err=True)
    for p in exc.problems[:50]:
        typer.echo(f"  - {p}", err=True)
    raise typer.Exit(2) from None


def issue_all(store, out_dir: Path, write):
    """Run a batch's `write()` all or nothing: on a refused output (exit 2) or Ctrl-C (exit 130) no workbook is
    written, so none is registered, and the store is closed."""
    from workbook.outputs import OutputError

    try:
        return write()
    except OutputError as exc:
        store.close()
        fail(str(exc))
    except KeyboardInterrupt:
        store.close()
        typer.echo(f"\n已中断：没有写出任何工作簿（{out_dir} 中原有文件保持原样），也没有登记；重新运行同一命令即可。",
                   err=True)
        raise typer.Exit(130) from None


def _open_store(db: Path):
    from workbook.store import Store, StoreError

    try:
        return Store(db)
    except StoreError as exc:
        fail(str(exc))


def _issue(issued: list[dict], factory: WorkbookFactory, unit: Unit, path: Path) -> str:
    """A fresh return_id for one workbook, remembered for the register."""
    rid = str(uuid.uuid4())
    t = factory.template
    issued.append({"return_id": rid, "budget_code": unit.budget_code, "unit_name": unit.unit_name,
                   "parent_dept": unit.parent_dept, "year": unit.year, "template_id": t.id,
                   "template_version": t.version, "file": str(path)})
    return rid


def _register(store, issued: list[dict]) -> None:
    from workbook.store import StoreError

    if store is None or not issued:
        return
    try:
        store.register(issued)
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()


def _prefill_from_store(units: list[Unit], store, year: int) -> int:
    n = 0
    for unit in units:
        prior = store.prior_year_prefill(unit.budget_code, year - 1)
        if prior:
            unit.prefill = {**prior, **unit.prefill}
            n += 1
    return n


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
