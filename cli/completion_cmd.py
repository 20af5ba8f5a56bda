"""`jixiao completion SHELL`: the shell completion script."""

from __future__ import annotations

import typer

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_JIXIAO_COMPLETE"


def completion(shell: str = typer.Argument("bash", help="bash、zsh 或 fish", metavar="SHELL")) -> None:
    """输出命令补全脚本。bash：eval "$(jixiao completion bash)"，可写进 ~/.bashrc。"""
    from typer._completion_shared import get_completion_script

    from .output import fail

    if shell not in SHELLS:
        fail(f"不支持的 shell：{shell}（可用：{'、'.join(SHELLS)}）")
    typer.echo(get_completion_script(prog_name="jixiao", complete_var=COMPLETE_VAR, shell=shell))


def enable_if_completing() -> None:
    """Register typer's completion classes when the shell asks for completions (cheap otherwise)."""
    import os

    if os.environ.get(COMPLETE_VAR):
        from typer._completion_classes import completion_init

        completion_init()


def register(app: typer.Typer) -> None:
    app.command("completion")(completion)
