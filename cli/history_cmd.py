"""`jixiao history UNIT`, `jixiao use UNIT SUBMISSION`, `jixiao key export|import`."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .output import fail, print_json, table

if TYPE_CHECKING:
    from workbook.store import Store

DB_HELP = "数据库文件（默认为当前目录下的 jixiao.sqlite）"

key_app = typer.Typer(help="财政局签名密钥：导出（备份、给另一台机器）和导入。", no_args_is_help=True)


def _open(db: Path, readonly: bool) -> Store:
    from workbook.store import Store, StoreError  # imported when a command runs: --help stays light

    try:
        return Store(db, create=False, readonly=readonly)
    except StoreError as exc:
        fail(str(exc))


def history_cmd(
    unit: str = typer.Argument(..., help="单位的预算编码"),
    year: int = typer.Option(None, "--year", help="只看某一年度"),
    db: Path = typer.Option(Path("jixiao.sqlite"), "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """一个单位的全部报送（当前、历史、待核实；附件3-2 和各项目的附件3-1）和财政局的选择记录。"""
    from workbook.store import ALL_FORMS

    store = _open(db, readonly=True)
    try:
        rows, choices = store.history(unit, year, form=ALL_FORMS), store.choices(unit)
    finally:
        store.close()
    items = [{k: r.get(k) for k in ("id", "year", "received_at", "saved_at", "file_mtime", "source_path", "is_current",
                                    "superseded_by", "hold", "total", "grade", "errors", "warnings", "template_id",
                                    "project_code", "project_name", "project_key")} for r in rows]
    if as_json:
        print_json({"unit": unit, "submissions": items, "choices": choices})
        return
    if not items:
        fail(f"数据库 {db} 中没有预算编码 {unit} 的报送", 1)
    body = [[str(i["id"]), str(i["year"] or ""), _state(i), (i["saved_at"] or "")[:19].replace("T", " "),
             (i["received_at"] or "")[:19].replace("T", " "), "" if i["total"] is None else f"{i['total']:g}",
             str(i["errors"]), i["source_path"]] for i in items]
    head = ["报送", "年度", "状态", "工作簿保存时间", "收到时间", "总分", "错误", "文件"]
    if any(i["project_key"] for i in items):  # the unit has per-project returns: say which form/project each is
        for row, i in zip(body, items, strict=True):
            row.insert(1, _project(i))
        head.insert(1, "表（项目）")
    typer.echo(table(body, head))
    for c in choices:
        typer.echo(f"选择记录：{c['chosen_at']} {c['chosen_by'] or ''} 把 #{c['submission_id']} 设为当前"
                   + (f"（原为 #{c['previous_id']}）" if c["previous_id"] else ""))
    typer.echo("用 jixiao use 预算编码 报送编号 选择当前报表。")


def _project(i: dict) -> str:
    if not i["project_key"]:
        return "附件3-2"
    code = f"，{i['project_code']}" if i["project_code"] else ""
    return f"附件3-1（{i['project_name'] or i['project_key']}{code}）"


def _state(i: dict) -> str:
    if i["hold"]:
        return "待核实"
    if i["is_current"]:
        return "当前"
    return f"历史（由 #{i['superseded_by']} 取代）" if i["superseded_by"] else "历史"


def use_cmd(
    unit: str = typer.Argument(..., help="单位的预算编码"),
    submission: int = typer.Argument(..., help="报送编号（见 jixiao history）"),
    db: Path = typer.Option(Path("jixiao.sqlite"), "--db", help=DB_HELP),
) -> None:
    """把一个单位的某次报送设为当前报表（记录在选择日志中）。"""
    from workbook.store import StoreError

    store = _open(db, readonly=False)
    try:
        done = store.use(unit, submission, _who())
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()
    prev = done["previous"]
    sub = done["submission"]
    whose = f"{unit} 项目“{sub['project_name'] or sub['project_key']}”" if sub.get("project_key") else unit
    typer.echo(f"已把 #{submission}（{sub['source_path']}）设为 {whose} 的当前报表"
               + (f"，原当前为 #{prev['id']}（{prev['source_path']}）" if prev and prev["id"] != submission else "")
               + "。已记录这次选择。")


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not a reason to fail
        return ""


@key_app.command("export")
def key_export(
    output: Path = typer.Option(..., "--output", "-o", help="密钥文件（新文件；请像保管公章一样保管）"),
    db: Path = typer.Option(Path("jixiao.sqlite"), "--db", help=DB_HELP),
) -> None:
    """把签名密钥写到一个新文件（仅本人可读），用于备份，或给另一台财政局电脑导入。"""
    if output.exists():
        fail(f"{output} 已存在，不会覆盖")
    store = _open(db, readonly=True)
    try:
        key = store.key
    finally:
        store.close()
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
    except OSError as exc:
        fail(f"无法写入 {output}：{exc.strerror or exc}")
    typer.echo(f"已导出签名密钥到 {output}（仅本人可读）。它能为任何单位伪造签名，不要通过邮件或聊天发送。")


@key_app.command("import")
def key_import(
    file: Path = typer.Argument(..., help="jixiao key export 导出的密钥文件"),
    db: Path = typer.Option(Path("jixiao.sqlite"), "--db", help=DB_HELP),
) -> None:
    """让本机数据库使用另一台财政局电脑的签名密钥（本机尚未下发过工作簿时）。"""
    from workbook.store import Store, StoreError

    key = read_key_file(file)
    try:
        with Store(db) as store:
            store.set_key(key)
    except StoreError as exc:
        fail(str(exc))
    typer.echo(f"数据库 {db} 已改用 {file} 中的签名密钥。")


def read_key_file(file: Path) -> str:
    """A key file's hex key, or a Chinese error naming the file."""
    try:
        text = file.read_text(encoding="ascii").strip()
        bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError):
        fail(f"{file} 不是 jixiao 签名密钥文件（应为 jixiao key export 导出的 64 位十六进制文本）")
    if len(text) != 64:
        fail(f"{file} 不是 jixiao 签名密钥文件（长度不对）")
    return text.lower()


def register(app: typer.Typer) -> None:
    app.command("history")(history_cmd)
    app.command("use")(use_cmd)
    app.add_typer(key_app, name="key")
