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


from . import bureau_cmd, generate_cmd, read_cmd  # noqa: E402

generate_cmd.register(app)
read_cmd.register(app)
bureau_cmd.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
