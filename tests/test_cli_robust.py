"""Ordinary mistakes get clear Chinese answers (exit 2, never 3), and no command overwrites a file it was not told to.

Through the real entry point (`python -m cli.main`), as a clerk would run it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from workbook.generate import Unit

from . import hostile
from .conftest import ROOT, seed_inputs
from .helpers import SEED_UNIT, factory, unit_values


def jx(*args, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_clean_error(res: subprocess.CompletedProcess, code: int = 2, *needles: str) -> None:
    text = res.stdout + res.stderr
    assert res.returncode == code, text
    assert "Traceback" not in text and "内部错误" not in text, text
    for n in needles:
        assert n in text, (n, text)


def readonly_dir(tmp_path: Path) -> Path:
    """A folder nobody may write into (root ignores permission bits, but not /sys)."""
    if os.geteuid() == 0:
        return Path("/sys")
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    return d


@pytest.fixture(scope="module")
def db_2021(tmp_path_factory) -> Path:
    """A store holding two 2021 returns: the seed (warning only) and one with an error (a blank input)."""
    d = tmp_path_factory.mktemp("store")
    factory().write(d / "in" / "a.xlsx" if (d / "in").mkdir() is None else None, SEED_UNIT,
                    unit_values(seed_inputs()))
    factory().write(d / "in" / "b.xlsx", Unit("有错误的单位", "100777", 2021, "区财政局"),
                    unit_values({**seed_inputs(), "card_paid": None}))
    db = d / "j.sqlite"
    res = jx("collect", d / "in", "--db", db)
    assert res.returncode == 1, res.stdout + res.stderr  # an error-level return: exit 1
    assert "有错误的单位" in res.stdout
    return db


# -- data safety ---------------------------------------------------------------------------

def test_demo_refuses_a_folder_holding_the_clerks_files(tmp_path):
    (tmp_path / "花名册.csv").write_text("预算编码,单位名称,主管部门\n1,真实单位,真实部门\n", encoding="utf-8")
    (tmp_path / "jixiao.sqlite").write_bytes(b"the clerk's real store")
    before = {p.name: digest(p) for p in tmp_path.iterdir()}
    res = jx("demo", "--out-dir", tmp_path)
    assert_clean_error(res, 2, "不是空文件夹", "--out-dir")
    assert {p.name: digest(p) for p in tmp_path.iterdir()} == before  # nothing touched, nothing added


def test_demo_out_dir_that_is_a_file_or_read_only(tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("x")
    assert_clean_error(jx("demo", "--out-dir", f), 2, "是一个文件")
    assert_clean_error(jx("demo", "--out-dir", readonly_dir(tmp_path) / "demo"), 2, "demo")


def test_generate_never_overwrites_without_force(tmp_path):
    out = tmp_path / "x.xlsx"
    out.write_bytes(b"a unit's filled return")
    args = ["generate", "-o", out, "--unit-name", "甲", "--budget-code", "1", "--year", "2021"]
    assert_clean_error(jx(*args), 2, "已存在", "--force")
    assert out.read_bytes() == b"a unit's filled return"
    assert jx(*args, "--force").returncode == 0
    assert openpyxl.load_workbook(out).sheetnames


def test_generate_out_dir_never_replaces_returns_with_blank_workbooks(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("预算编码,单位名称,主管部门\n1,甲,局\n2,乙,局\n", encoding="utf-8")
    out = tmp_path / "下发"
    out.mkdir()
    returned = out / "1-甲.xlsx"
    returned.write_bytes(b"filled in by the unit")
    res = jx("generate", "--roster", roster, "--year", "2021", "--out-dir", out)
    assert_clean_error(res, 2, "1-甲.xlsx", "--force")
    assert returned.read_bytes() == b"filled in by the unit"
    assert sorted(p.name for p in out.iterdir()) == ["1-甲.xlsx"]  # all or nothing: 乙 not written either


def test_consolidate_refuses_existing_outputs_and_names_the_right_file(tmp_path, db_2021):
    issued = tmp_path / "200009-社保中心.xlsx"
    factory().write(issued, SEED_UNIT)
    before = digest(issued)
    base = ["consolidate", "--year", "2021", "--db", db_2021]
    assert_clean_error(jx(*base, "-o", issued), 2, "已存在", "--force")
    assert digest(issued) == before
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "汇总.csv").write_text("the clerk's own table", encoding="utf-8")
    new = tmp_path / "h.xlsx"
    assert_clean_error(jx(*base, "-o", new, "--csv", csv_dir), 2, "汇总.csv", "--force")
    assert not new.exists() and (csv_dir / "汇总.csv").read_text(encoding="utf-8") == "the clerk's own table"
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    res = jx(*base, "-o", new, "--csv", blocker / "csv")
    assert_clean_error(res, 2, str(blocker))
    assert "h.xlsx" not in res.stderr and not new.exists()  # blames the CSV folder, writes nothing
    assert_clean_error(jx(*base, "-o", tmp_path), 2, "是一个文件夹")
    assert_clean_error(jx(*base, "-o", tmp_path / "x.csv"), 2, "扩展名应为 .xlsx")
    assert_clean_error(jx(*base, "-o", readonly_dir(tmp_path) / "d.xlsx"), 2, "无法写入")
    res = jx(*base, "-o", new, "--csv", tmp_path / "csv2", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["units"] == 2 and out["output"] == str(new) and len(out["csv_files"]) >= 6
    assert all(Path(p).exists() for p in out["csv_files"])
    assert not list(tmp_path.rglob(".jixiao-tmp-*"))  # no temporary file left behind


def test_outputs_are_replaced_only_when_complete(tmp_path):
    from workbook.outputs import OutputError, Outputs

    target = tmp_path / "d.xlsx"
    target.write_bytes(b"old")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError) as exc, Outputs(force=True) as out:
        out.add(target, half_then_fail)
    assert "磁盘空间不足" in str(exc.value) and target.read_bytes() == b"old"
    with pytest.raises(KeyboardInterrupt), Outputs(force=True) as out:
        out.add_bytes(target, b"new")
        raise KeyboardInterrupt  # Ctrl-C before the command finished: the old file stays
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["d.xlsx"]
    with Outputs(force=True) as out:
        out.add_bytes(target, b"new")
    assert target.read_bytes() == b"new" and oct(target.stat().st_mode & 0o777) != oct(0o600)


# -- ordinary mistakes: exit 2 with a Chinese message ------------------------------------------

def test_bad_numbers_and_paths_are_usage_errors(tmp_path, db_2021):
    assert_clean_error(jx("verify", tmp_path, "--workers", "-3"), 2, "--workers")
    assert_clean_error(jx("collect", tmp_path, "--workers", "-1", "--db", tmp_path / "j.sqlite"), 2, "--workers")
    assert_clean_error(jx("generate", "--roster", tmp_path, "--year", "2021", "--out-dir", tmp_path / "o"), 2,
                       "文件夹")
    for cmd in (["generate", "-o", tmp_path / "a.xlsx", "--unit-name", "甲", "--budget-code", "1"],
                ["status", "--db", db_2021], ["consolidate", "-o", tmp_path / "d.xlsx", "--db", db_2021]):
        assert_clean_error(jx(*cmd, "--year", "1800"), 2, "1800", "2000")
    assert_clean_error(jx("template", "check", tmp_path / "none.toml"), 2, "找不到")


def test_status_names_years_and_exits_1_on_error_returns(db_2021):
    res = jx("status", "--year", "2019", "--db", db_2021)
    assert res.returncode == 0 and "没有 2019 年度" in res.stderr and "2021" in res.stderr
    res = jx("status", "--year", "2021", "--db", db_2021)
    assert res.returncode == 1 and "有错误的单位" in res.stdout and "100777" in res.stdout


def test_template_check_names_items_instead_of_crashing(tmp_path):
    text = (ROOT / "templates" / "zhengti.toml").read_text(encoding="utf-8")
    cases = {
        "no-level-id.toml": (text.replace('[[levels]]\nid = "input"\n', "[[levels]]\n", 1), "一级指标第1项（投入）：缺少 id"),
        "points.toml": (text.replace('name = "投入"\npoints = 15', 'name = "投入"\npoints = "十五"', 1),
                        "points 应为数字，实际为 '十五'"),
        "no-group-id.toml": (text.replace('{ id = "budget_config", name = "预算配置", points = 15 }',
                                          '{ name = "预算配置", points = 15 }', 1), "二级指标第1项（预算配置）：缺少 id"),
    }
    for name, (body, needle) in cases.items():
        p = tmp_path / name
        p.write_text(body, encoding="utf-8")
        res = jx("template", "check", p)
        assert_clean_error(res, 1, needle)


def test_read_reports_jixiao_bugs_as_internal_naming_the_file(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app
    from workbook import read

    p = tmp_path / "ok.xlsx"
    factory().write(p, SEED_UNIT, unit_values(seed_inputs()))

    def bug(ret, safe):
        raise TypeError("unsupported operand type(s)")

    monkeypatch.setattr(read, "_read", bug)
    res = CliRunner().invoke(app, ["read", str(p)])
    assert res.exit_code == 3 and "内部错误" in res.output and str(p) in res.output
    assert "不是该文件的问题" in res.output and "file_rejected" not in res.output


# -- folder scans ---------------------------------------------------------------------------------

def test_folder_scan_skips_non_spreadsheets_and_advises_on_wrong_formats(tmp_path):
    import io
    import zipfile

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    factory().write(inbox / "good.xlsx", SEED_UNIT, unit_values(seed_inputs()))
    (inbox / "自评报告.pdf").write_bytes(b"%PDF-1.7\n...")
    (inbox / "Thumbs.db").write_bytes(hostile.ole2())
    (inbox / "说明.txt").write_text("请查收", encoding="utf-8")
    (inbox / "照片.jpg").write_bytes(b"\xff\xd8\xff\xe0JFIF")
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w/>")
    (inbox / "报告.docx").write_bytes(docx.getvalue())
    (inbox / "old.xls").write_bytes(hostile.ole2())
    (inbox / "wps.et").write_bytes(hostile.ole2())
    (inbox / "locked.xlsx").write_bytes(hostile.ole2()[:512] + "EncryptedPackage".encode("utf-16-le") + b"\0" * 64)
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<x/>")
    (inbox / "calc.ods").write_bytes(ods.getvalue())
    xlsb = io.BytesIO()
    with zipfile.ZipFile(xlsb, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types>spreadsheetml</Types>")
        zf.writestr("xl/workbook.bin", b"\0" * 10)
    (inbox / "bin.xlsb").write_bytes(xlsb.getvalue())
    (inbox / "renamed.pdf").write_bytes((inbox / "good.xlsx").read_bytes())  # a return in disguise: checked
    res = jx("verify", inbox)
    text = res.stdout + res.stderr
    assert res.returncode == 2 and "Traceback" not in text
    assert re.search(r"已跳过 5 个", res.stderr), res.stderr
    for name in ("自评报告.pdf", "Thumbs.db", "说明.txt", "照片.jpg", "报告.docx"):
        assert name in res.stderr and f"{name}：拒收" not in res.stdout
    lines = {Path(line.split("：")[0]).name: line for line in res.stdout.splitlines() if "：" in line}
    for name in ("old.xls", "wps.et", "calc.ods", "bin.xlsb"):
        assert "另存为” .xlsx" in lines[name], lines[name]
    assert "取消密码" in lines["locked.xlsx"]
    assert "总分 100" in lines["renamed.pdf"]
    assert "共 7 个文件：拒收 5" in res.stdout


# -- command-line conventions ------------------------------------------------------------------------

ENGLISH = re.compile(r"Missing option|Missing argument|No such option|Invalid value|Show this message|"
                     r"Usage:|Try '|<list\[|\{paths\}|\{file\}|\[required\]|\[default")


def test_framework_messages_are_chinese(tmp_path):
    cases = [(["status"], "缺少选项 '--year'"), (["verify"], "缺少参数"), (["verify", "--foo"], "没有这个选项"),
             (["status", "--year", "abc"], "值无效"), (["nosuch"], "没有这个命令")]
    for args, needle in cases:
        res = jx(*args)
        text = res.stdout + res.stderr
        assert res.returncode == 2 and needle in text and not ENGLISH.search(text), (args, text)


def test_version_and_completion():
    from workbook import __version__

    res = jx("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"jixiao {__version__}"
    res = jx("completion", "bash")
    assert res.returncode == 0 and "_JIXIAO_COMPLETE" in res.stdout and "complete " in res.stdout
    res = jx(env={"_JIXIAO_COMPLETE": "complete_bash", "COMP_WORDS": "jixiao col", "COMP_CWORD": "1"})
    assert res.stdout.split() == ["collect"]


def test_score_warns_about_unknown_keys_and_negative_base_is_invalid_input(tmp_path):
    data = {**seed_inputs(), "staf_quota": 40}
    p = tmp_path / "in.json"
    p.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    res = jx("score", "-i", p)
    assert "staf_quota" in res.stderr and "staff_quota" in res.stderr
    p.write_text(json.dumps({**seed_inputs(), "exp_project": -5}, ensure_ascii=False), encoding="utf-8")
    res = jx("score", "-i", p, "--json")
    codes = {f["code"] for f in json.loads(res.stdout)["findings"]}
    assert "invalid_input" in codes and "exceeds_base" not in codes and res.returncode == 1
    assert jx("score", "-i", ROOT / "samples" / "seed_inputs.json").stderr == ""  # the sample has no unknown key
