"""The documentation matches the code (after sqlite-utils' test_docs.py): finding codes, Chinese help, samples."""

from __future__ import annotations

import re

import pytest
from typer.main import get_command

from cli.main import app
from workbook.template import FINDING_CODES

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _commands(group, path=()):
    for name, cmd in sorted(group.commands.items()):
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*path, name))
        else:
            yield (*path, name), cmd


COMMANDS = list(_commands(get_command(app)))


def test_readme_finding_code_table_is_the_templates():
    section = README.split("## 审核问题代码", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| (\S+) \|", section, re.M)
    severity = {"错误": "error", "警告": "warning", "提示": "info"}
    assert {code: severity[sev] for code, sev in rows} == FINDING_CODES
    assert len(rows) == len(FINDING_CODES)  # no code listed twice


def test_every_command_is_in_the_readme():
    for path, _ in COMMANDS:
        assert f"jixiao {' '.join(path)}" in README, path


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_chinese_help(path, cmd):
    assert cmd.help and CJK.search(cmd.help), f"jixiao {' '.join(path)} 缺少中文说明"
    for param in cmd.params:
        if param.name == "help":
            continue
        assert getattr(param, "help", None) and CJK.search(param.help), \
            f"jixiao {' '.join(path)} 的参数 {param.name} 缺少中文说明"


def test_readme_documents_exit_130_force_and_the_sample_roster():
    assert "130" in README and "--force" in README
    assert "samples/花名册.csv" in README and (ROOT / "samples" / "花名册.csv").exists()
    assert (ROOT / "samples" / "花名册.xlsx").exists()


def test_sample_rosters_agree_and_are_what_bureaus_have():
    from workbook.form.roster import read_roster

    notes_csv: list[str] = []
    csv_units = read_roster(ROOT / "samples" / "花名册.csv", 2021, notices=notes_csv)
    xlsx_units = read_roster(ROOT / "samples" / "花名册.xlsx", 2021)
    assert [(u.budget_code, u.unit_name, u.parent_dept, u.prefill) for u in csv_units] == \
           [(u.budget_code, u.unit_name, u.parent_dept, u.prefill) for u in xlsx_units]
    assert csv_units[0].budget_code == "200009" and csv_units[0].prefill == {"staff_quota": 50}
    assert notes_csv and "序号" in notes_csv[0] and "备注" in notes_csv[0]  # a title row, 序号 and 备注, as in real rosters
