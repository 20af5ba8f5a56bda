"""Chinese for the command-line framework's own messages (click and typer), and for type placeholders.

click and typer mark their messages for gettext (`from gettext import gettext as _`);
`install()` replaces those functions in their modules with a lookup in `MESSAGES`, so
"Missing option '--year'." becomes "缺少选项 '--year'。" whatever the system locale is.
"""

from __future__ import annotations

import importlib
from typing import Any

MESSAGES = {
    "Usage:": "用法：",
    "Options": "选项",
    "Arguments": "参数",
    "Commands": "命令",
    "Error": "错误",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "Aborted!": "已中断。",
    "Aborted.": "已中断。",
    "Missing command.": "缺少命令。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "No such option: {name}": "没有这个选项：{name}",
    "No such option {name!r}.": "没有这个选项 {name!r}。",
    "No such command {name!r}.": "没有这个命令 {name!r}。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不需要值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在允许范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是/否值，可用：{states}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "Error: {message}": "错误：{message}",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
    "[default: {}]": "[默认：{}]",
    "[env var: {}]": "[环境变量：{}]",
    "[required]": "[必填]",
    "(deprecated) ": "（已弃用）",
    "deprecated": "已弃用",
    "(dynamic)": "（动态）",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "Did you mean {possibility}?": "您是不是要用 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（您是不是要用其中之一：{possibilities}？）",
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{value!r} is not one of {choices}.": "{value!r} 不是 {choices} 之一。",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 1 个。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个值，给了 {len} 个。",
}
NUMBER_TYPES = {"integer": "整数", "float": "数字"}

TYPE_NAMES = {"int": "整数", "float": "数字", "str": "文本", "Path": "路径", "file": "文件", "dir": "文件夹",
              "path": "路径", "bool": ""}


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


_CLICK_MODULES = ("core", "exceptions", "parser", "types", "decorators", "formatting", "termui", "utils",
                  "shell_completion")


def _display_type(self, ctx: Any) -> str:
    """The type placeholder in help (<整数>, <路径>…) instead of <int>, <list[Path]>, <bool>."""
    desc = self.type_descriptor
    if getattr(self, "is_flag", False) or desc.annotation is bool:
        return ""
    if desc.is_choice:
        return "<" + "|".join(str(c) for c in desc.choices or ()) + ">"
    if desc.is_path:
        label = "路径"
    else:
        ann = desc.annotation
        args = getattr(ann, "__args__", None)
        name = getattr(args[0] if args else ann, "__name__", str(ann))
        label = TYPE_NAMES.get(name, name)
    return f"<{label}>" if label else ""


def _usage_display_name(self) -> str:
    name = self.display_name_raw
    name = f"<{name}>" if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


# Messages built without gettext (typer >= 0.20 bundles its own click, with f-strings): translated whole.
PATTERNS = [
    (r"^Missing option '(.+?)'\.(.*)$", "缺少选项 '\\1'。\\2"),
    (r"^Missing argument '(.+?)'\.(.*)$", "缺少参数 '\\1'。\\2"),
    (r"^Missing parameter '(.+?)'\.(.*)$", "缺少参数 '\\1'。\\2"),
    (r"^Missing parameter: (.+)$", "缺少参数：\\1"),
    (r"^No such option: (.+?)(?: Did you mean (.+)\?)?$", "没有这个选项：\\1"),
    (r"^No such command '(.+?)'\.$", "没有这个命令 '\\1'。"),
    (r"^Missing command\.$", "缺少命令。"),
    (r"^Got unexpected extra arguments? \((.+)\)$", "多余的参数（\\1）"),
    (r"^Option '(.+?)' requires an argument\.$", "选项 '\\1' 需要一个值。"),
    (r"^Option '(.+?)' requires (\d+) arguments\.$", "选项 '\\1' 需要 \\2 个值。"),
    (r"^Option '(.+?)' does not take a value\.$", "选项 '\\1' 不需要值。"),
    (r"^Invalid value for (.+?): (.+)$", None),  # the inner message is translated too
    (r"^Invalid value: (.+)$", None),
    (r"^(?:Value )?'?(.+?)'? is not a valid (integer|int|float|number)\.$", "“\\1”不是有效的数字。"),
    (r"^Input should be a valid integer.*$", "应为整数。"),
    (r"^Input should be a valid number.*$", "应为数字。"),
    (r"^(.+?) is not in the range (.+)\.$", "\\1 不在允许范围 \\2 内。"),
    (r"^(?:File|Directory|Path) '(.+?)' does not exist\.$", "路径 '\\1' 不存在。"),
    (r"^(?:File|Directory|Path) '(.+?)' is a directory\.$", "'\\1' 是文件夹。"),
    (r"^(?:File|Directory|Path) '(.+?)' is a file\.$", "'\\1' 是文件，不是文件夹。"),
    (r"^'(.+?)' is not one of (.+)\.$", "“\\1”不是以下之一：\\2。"),
    (r"^'(.+?)' is not a valid boolean.*$", "“\\1”不是有效的是/否值。"),
]


def translate(text: str) -> str:
    """A click/typer message in Chinese (unknown messages are returned unchanged)."""
    import re

    if text in MESSAGES:
        return MESSAGES[text]
    for pattern, repl in PATTERNS:
        m = re.match(pattern, text, re.S)
        if not m:
            continue
        if repl is None:
            if len(m.groups()) == 2:
                return f"{m.group(1)} 的值无效：{translate(m.group(2))}"
            return f"值无效：{translate(m.group(1))}"
        return m.expand(repl)
    return text


def _wrap_format_message(cls: type) -> None:
    original = cls.__dict__.get("format_message")
    if original is None or getattr(original, "_zh", False):
        return

    def format_message(self) -> str:
        return translate(original(self))

    format_message._zh = True  # type: ignore[attr-defined]
    cls.format_message = format_message


def _install_bundled_click() -> None:
    """typer's bundled click (typer >= 0.20)."""
    try:
        from typer._click import core, exceptions, formatting
    except ImportError:  # older typer uses click itself (gettext, handled below)
        return
    for obj in vars(exceptions).values():
        if isinstance(obj, type) and issubclass(obj, exceptions.ClickException):
            _wrap_format_message(obj)
    write_usage = formatting.HelpFormatter.write_usage
    if not getattr(write_usage, "_zh", False):
        def zh_write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            write_usage(self, prog, args, "用法：" if prefix is None else prefix)

        zh_write_usage._zh = True  # type: ignore[attr-defined]
        formatting.HelpFormatter.write_usage = zh_write_usage
    get_usage = core.Command.get_usage
    if not getattr(get_usage, "_zh", False):
        def zh_get_usage(self, ctx) -> str:
            return get_usage(self, ctx).replace("[OPTIONS]", "[选项]").replace("COMMAND [ARGS]...", "命令 [参数]...")

        zh_get_usage._zh = True  # type: ignore[attr-defined]
        core.Command.get_usage = zh_get_usage
    get_help_option = core.Command.get_help_option
    if not getattr(get_help_option, "_zh", False):
        def zh_get_help_option(self, ctx):
            opt = get_help_option(self, ctx)
            if opt is not None:
                opt.help = MESSAGES["Show this message and exit."]
            return opt

        zh_get_help_option._zh = True  # type: ignore[attr-defined]
        core.Command.get_help_option = zh_get_help_option


def install() -> None:
    """Translate click's and typer's messages and type placeholders (idempotent)."""
    import click.types
    import typer.core
    import typer.rich_utils as ru

    for mod in _CLICK_MODULES:
        try:
            m = importlib.import_module(f"click.{mod}")
        except ImportError:  # pragma: no cover
            continue
        if hasattr(m, "_"):
            m._ = gettext
        if hasattr(m, "ngettext"):
            m.ngettext = ngettext
    _install_bundled_click()
    typer.core._ = gettext
    for attr, msgid in {"DEFAULT_STRING": "[default: {}]", "ENVVAR_STRING": "[env var: {}]",
                        "REQUIRED_LONG_STRING": "[required]", "DEPRECATED_STRING": "(deprecated) ",
                        "ARGUMENTS_PANEL_TITLE": "Arguments", "OPTIONS_PANEL_TITLE": "Options",
                        "COMMANDS_PANEL_TITLE": "Commands", "ERRORS_PANEL_TITLE": "Error",
                        "ABORTED_TEXT": "Aborted.",
                        "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help."}.items():
        setattr(ru, attr, gettext(msgid))
    ru._ = gettext
    click.types.IntParamType.name = NUMBER_TYPES["integer"]
    click.types.FloatParamType.name = NUMBER_TYPES["float"]
    if hasattr(typer.core, "_TyperParameter"):
        typer.core._TyperParameter.display_type = _display_type
    if hasattr(typer.core.TyperArgument, "_usage_display_name"):
        typer.core.TyperArgument._usage_display_name = _usage_display_name
