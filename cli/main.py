"""jixiao — 部门整体支出绩效自评工具（命令行）。"""

from __future__ import annotations

import typer

from . import template_cmd
from .score_cmd import score_command

app = typer.Typer(
    help="jixiao 绩效：部门（单位）整体支出绩效自评——生成锁定的公式化填报表、读取复算审核、财政局汇总。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(template_cmd.app, name="template")
app.command("score")(score_command)


from . import bureau_cmd, generate_cmd, read_cmd, serve_cmd  # noqa: E402

generate_cmd.register(app)
read_cmd.register(app)
bureau_cmd.register(app)
serve_cmd.register(app)


def main() -> None:
    """Console entry point: an unexpected internal error gets a Chinese message, not a traceback.

    Set JIXIAO_DEBUG=1 to see the traceback when reporting a bug.
    """
    import os
    import sys

    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("已中断。\n")
        raise SystemExit(130) from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence for bureau staff
        if os.environ.get("JIXIAO_DEBUG"):
            raise
        sys.stderr.write(f"jixiao 内部错误：{type(exc).__name__}: {exc}\n"
                         "请把这条信息和所用命令告诉维护人员（设置环境变量 JIXIAO_DEBUG=1 可看到详细信息）。\n")
        raise SystemExit(3) from None


if __name__ == "__main__":  # pragma: no cover
    main()
