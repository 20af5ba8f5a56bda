"""`jixiao generate --form xiangmu --roster 项目花名册 --out-dir D`: one 附件3-1 workbook per project,
registered in the store and signed with the bureau key (as the 附件3-2 batch)."""

from __future__ import annotations

import uuid
from pathlib import Path

import typer

from .output import fail


def generate_projects(form_name: str, roster: Path | None, out_dir: Path | None, year: int, password: str | None,
                      force: bool, db: Path | None = None) -> None:
    from workbook.form.project_roster import issue_record, project_filename, read_project_roster
    from workbook.form.registry import builtin_forms, form_named
    from workbook.form.roster import RosterError
    from workbook.form.rowform import load_row_form
    from workbook.generate.api import DEFAULT_PASSWORD
    from workbook.generate.rows import RowWorkbookFactory
    from workbook.outputs import OutputError, Outputs, prepare_dir

    from .generate_cmd import _open_store, _register, issue_all, roster_failed

    info = form_named(form_name)
    if info is None:
        fail(f"没有名为 {form_name!r} 的内置表单（可用：{'、'.join(f.name for f in builtin_forms())}）")
    if info.kind != "rows":
        fail(f"表单 {form_name} 按单位生成，请不加 --form 使用")
    if roster is None or out_dir is None:
        fail(f"{info.title}按项目花名册生成：请用 --roster 和 --out-dir", 2)
    form = load_row_form(info.path)
    try:
        units = read_project_roster(roster, year, form)
    except RosterError as exc:
        roster_failed("项目花名册", exc)
    try:
        prepare_dir(out_dir)
    except OutputError as exc:
        fail(str(exc))
    db = db or Path("jixiao.sqlite")
    store = _open_store(db)
    factory = RowWorkbookFactory(form, password or DEFAULT_PASSWORD, key=store.key)
    issued: list[dict] = []

    def write() -> None:
        with Outputs(force=force) as outs:
            for unit in units:
                path = out_dir / project_filename(unit)
                rid = str(uuid.uuid4())
                issued.append(issue_record(unit, form, rid, path))
                outs.add_bytes(path, factory.build(unit, return_id=rid))

    issue_all(store, out_dir, write)
    _register(store, issued)
    typer.echo(f"已为 {len(units)} 个项目生成 {year} 年度{info.title}，保存在 {out_dir}，"
               f"已登记到数据库 {db} 并写入身份签名。")
