"""`jixiao serve`: the bureau's web desk (回收台账、收表、单位详情、审核、年度任务、汇总)."""

from __future__ import annotations

import ipaddress
import os
import signal
import sys
import tempfile
from pathlib import Path

import typer

from .output import fail

DB_HELP = "数据库文件（默认为当前目录下的 jixiao.sqlite）"


def is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def demo_db() -> Path:
    """A fresh copy of the demo data in a new temporary folder (never the user's working folder)."""
    from workbook import review, rosters
    from workbook.demo import YEAR, run_demo
    from workbook.form.roster import read_roster
    from workbook.store import Store

    out = Path(tempfile.mkdtemp(prefix="jixiao-serve-demo-"))
    result = run_demo(out)
    with Store(result.db) as store:
        rosters.ensure_schema(store)
        review.ensure_schema(store)
        rosters.save_roster(store, YEAR, read_roster(result.roster, YEAR))
        # a desk in mid-season: one return passed, the tampered one sent back
        clean = [s for s in result.status if s.state == "通过"]
        if clean:
            review.decide(store, YEAR, clean[0].budget_code, review.APPROVE, "演示", "数据完整，同意")
        tampered = store.db.execute("SELECT budget_code FROM submissions WHERE is_current = 1 AND year = ? AND project_key = '' "
                                    "AND errors > 0 AND cached_total != total", (YEAR,)).fetchall()
        for (code,) in tampered[:1]:
            review.decide(store, YEAR, code, review.RETURN, "演示",
                          "总分公式被改成常数，自报分与复算分不符：请使用下发的原工作簿重新填报")
    return result.db


def serve_cmd(
    db: Path = typer.Option(Path("jixiao.sqlite"), "--db", help=DB_HELP),
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址（默认只允许本机访问）"),
    port: int = typer.Option(8000, "--port", help="端口"),
    password: str = typer.Option(None, "--password", envvar="JIXIAO_PASSWORD",
                                 help="登录密码（监听非本机地址时必需；也可用环境变量 JIXIAO_PASSWORD）"),
    open_browser: bool = typer.Option(False, "--open", help="启动后打开浏览器"),
    demo: bool = typer.Option(False, "--demo", help="在一份全新的演示数据上启动（写入临时文件夹）"),
) -> None:
    """启动财政局工作台（网页）：回收台账、收表、单位详情与审核、年度任务、汇总。"""
    if not is_local(host) and not password:
        fail(f"监听非本机地址 {host} 时必须设置登录密码（--password 或环境变量 JIXIAO_PASSWORD），"
             "否则同一网络中的任何人都能查看和修改数据")
    if not 1 <= port <= 65535:
        fail(f"端口 {port} 无效（应为 1–65535）")
    try:
        import uvicorn

        from web.app import create_app
        from web.settings import Settings
    except ImportError as exc:
        fail(f"缺少网页工作台所需的组件（{exc.name}）：请运行 python3 -m pip install -e .")
    if demo:
        typer.echo("正在准备演示数据（临时文件夹，停止后删除）……")
        db = demo_db()
    else:
        from workbook.store import Store, StoreError

        try:
            Store(db).close()
        except StoreError as exc:
            fail(str(exc))
    # a desk on this machine only answers to its own names (a web page cannot reach it by DNS rebinding)
    hosts = ["127.0.0.1", "localhost", "::1", host] if is_local(host) else None
    app = create_app(Settings(db=db, password=password, allowed_hosts=hosts))
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    typer.echo(f"jixiao 财政局工作台：{url}（数据库 {db.resolve()}）。按 Ctrl+C 停止。")
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    if demo:  # uvicorn re-raises SIGTERM after shutting down: make it an orderly exit, so the demo copy is removed
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        uvicorn.run(app, host=host, port=port, log_level=os.environ.get("JIXIAO_LOG", "warning"))
    except KeyboardInterrupt:
        typer.echo("工作台已停止。")
    except OSError as exc:
        fail(f"无法在 {host}:{port} 启动：{exc.strerror or exc}（端口可能已被占用，可用 --port 换一个）")
    finally:
        if demo:  # the demo copy is throwaway: remove its temporary folder
            import shutil

            shutil.rmtree(db.parent, ignore_errors=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
