"""jixiao — 部门整体支出绩效自评工具（命令行）。"""

from __future__ import annotations

import functools

import typer

from . import template_cmd, zh
from .score_cmd import score_command

zh.install()

app = typer.Typer(
    help="jixiao 绩效：部门（单位）整体支出绩效自评——生成锁定的公式化填报表、读取复算审核、财政局汇总。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(template_cmd.app, name="template")
app.command("score")(score_command)


def _version(value: bool) -> None:
    if value:
        from workbook import __version__

        typer.echo(f"jixiao {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="显示版本号并退出", callback=_version, is_eager=True),
) -> None:
    """jixiao 绩效：部门（单位）整体支出绩效自评——生成锁定的公式化填报表、读取复算审核、财政局汇总。

    退出码：0 正常；1 有“错误”级问题；2 文件被拒收、无法读取或参数有误；3 程序内部错误；130 被中断（Ctrl-C）。
    """


from . import bureau_cmd, completion_cmd, generate_cmd, read_cmd, serve_cmd  # noqa: E402

generate_cmd.register(app)
read_cmd.register(app)
bureau_cmd.register(app)
serve_cmd.register(app)
completion_cmd.register(app)


def _interruptible(callback):
    """Ctrl-C (or SIGTERM) in a command without its own message: one Chinese line, exit 130."""
    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except KeyboardInterrupt:
            typer.echo("已中断（Ctrl-C）。", err=True)
            raise typer.Exit(130) from None

    return wrapper


for _typer in (app, template_cmd.app):
    for _info in _typer.registered_commands:
        _info.callback = _interruptible(_info.callback)


def _finished() -> None:
    """The command's work is done: a Ctrl-C or SIGTERM landing while Python shuts down (closing the
    worker pool, atexit handlers) must not turn a finished run into a killed one (exit -2)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def main() -> None:
    """Console entry point: an unexpected internal error gets a Chinese message, not a traceback.

    Set JIXIAO_DEBUG=1 to see the traceback when reporting a bug.
    """
    import os
    import sys

    from workbook.interrupts import install

    install()  # SIGTERM ends a command like Ctrl-C
    completion_cmd.enable_if_completing()
    try:
        app(prog_name="jixiao", complete_var=completion_cmd.COMPLETE_VAR)
    except SystemExit:
        _finished()
        raise
    except KeyboardInterrupt:
        sys.stderr.write("已中断（Ctrl-C）。\n")
        raise SystemExit(130) from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence for bureau staff
        if os.environ.get("JIXIAO_DEBUG"):
            raise
        sys.stderr.write(f"jixiao 内部错误：{type(exc).__name__}: {exc}\n"
                         "请把这条信息和所用命令告诉维护人员（设置环境变量 JIXIAO_DEBUG=1 可看到详细信息）。\n")
        raise SystemExit(3) from None


if __name__ == "__main__":  # pragma: no cover
    main()
