"""Headless Gnumeric (ssconvert): a second, independent spreadsheet engine to recalculate workbooks.

`ssconvert --recalc` loads a workbook, recalculates every formula and saves it again;
it is what a unit using Gnumeric would get, and catches formulas only Excel and
LibreOffice evaluate alike (e.g. N() of a blank cell is #NUM! in Gnumeric).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class GnumericError(RuntimeError):
    pass


def ssconvert() -> str | None:
    return shutil.which("ssconvert")


def recalculate(files: list[Path], out_dir: Path, timeout: float = 120) -> list[Path]:
    """Recalculate each file in Gnumeric and save it as .xlsx (Excel 2007 format) into out_dir."""
    exe = ssconvert()
    if not exe:
        raise GnumericError("未安装 Gnumeric（ssconvert）")
    out_dir.mkdir(parents=True, exist_ok=True)
    outs = []
    for f in files:
        out = out_dir / (Path(f).stem + ".xlsx")
        res = subprocess.run([exe, "--recalc", "--export-type=Gnumeric_Excel:xlsx2", str(f), str(out)],
                             capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0 or not out.exists():
            raise GnumericError(f"Gnumeric 转换 {f} 失败（{res.returncode}）：{res.stderr.strip()[-500:]}")
        outs.append(out)
    return outs
