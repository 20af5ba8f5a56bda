"""Shared fixtures: the seed sample and helpers."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "samples" / "seed_inputs.json"


def seed_inputs() -> dict:
    data = json.loads(SEED.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


@pytest.fixture
def seed() -> dict:
    return seed_inputs()


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_program(path: str | None, what: str, package: str, purpose: str) -> str:
    """A real program's path; skip with a reason locally, fail under CI=true (.ci/run installs it)."""
    if path:
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true 但找不到 {what}：.ci/run 应该已安装 {package}")
    pytest.skip(f"未安装 {what}，跳过{purpose}；apt-get install {package} 后可运行")
    raise AssertionError  # unreachable


def require_soffice() -> str:
    """The soffice binary; skip with a reason locally, fail under CI=true."""
    return require_program(soffice_path(), "LibreOffice（soffice）", "libreoffice-calc-nogui", "真实电子表格重算测试")


def require_ssconvert() -> str:
    """The ssconvert binary (Gnumeric); skip with a reason locally, fail under CI=true."""
    return require_program(shutil.which("ssconvert"), "Gnumeric（ssconvert）", "gnumeric", "第二个电子表格引擎的重算测试")


def pytest_sessionfinish(session, exitstatus):
    """Excel-clean sweep: every workbook the suite produced that jixiao accepts must open clean in Excel.

    A return that verifies without errors is one the bureau would take; if it broke one of Excel's
    limits, a unit's Excel would "repair" it.  Deliberately broken files verify with errors, so they
    are left out, as are returns of template 2021.1 (issued before the fix); the district workbook is
    checked by tests/test_excel_limits.py.
    """
    if exitstatus != 0 or os.environ.get("JIXIAO_SKIP_EXCEL_SWEEP"):
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    import zipfile

    from workbook.excel_limits import excel_problems
    from workbook.read import read_return
    from workbook.verify import verify

    base = factory.getbasetemp()
    problems, checked = [], 0
    for path in sorted(base.rglob("*.xlsx")):
        try:
            if path.stat().st_size > 5_000_000 or not zipfile.is_zipfile(path):
                continue
            with zipfile.ZipFile(path) as z:
                if sum(i.file_size for i in z.infolist()) > 50_000_000:
                    continue
            report = verify(read_return(path))
        except Exception:  # noqa: BLE001 - a file jixiao cannot read is not one it accepts
            continue
        if any(f.severity == "error" for f in report.findings):
            continue
        if report.ret.template is None or report.ret.template.formula_revision < 2:
            continue  # issued before the Excel-limit fix (template 2021.1): accepted, known to break Excel
        checked += 1
        problems += [f"{path.relative_to(base)}: {p}" for p in excel_problems(path)]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"Excel 限制检查：{checked} 份无错误的报表，{len(problems)} 处超限")
    if problems:
        if reporter is not None:
            for line in problems[:50]:
                reporter.write_line("  " + line)
        session.exitstatus = 1


SHARED = ROOT.parent / "shared"


def require_shared(path: Path, what: str) -> Path:
    """A path under ../shared: skip with a reason locally, fail under CI=true (the data must be there)."""
    if path.exists():
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true 但找不到 {path}（{what}）：CI 必须检出 ../shared，这项测试不能跳过")
    pytest.skip(f"{path} 不在此机器上（{what}）")
    raise AssertionError  # unreachable
