"""Headless LibreOffice: recalculate workbooks (as a spreadsheet user would) and render them to PDF.

LibreOffice keeps cached formula values on load unless told to always recalculate,
so each call runs soffice with a fresh private profile that sets OOXMLRecalcMode = 0.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

_PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class LibreOfficeError(RuntimeError):
    pass


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(files: list[Path], out_dir: Path, target: str = "xlsx", timeout: float = 300) -> list[Path]:
    """Open each file in LibreOffice with full recalculation and save it as `target` into out_dir."""
    exe = soffice()
    if not exe:
        raise LibreOfficeError("未安装 LibreOffice（soffice）")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jixiao-lo-") as prof:
        user = Path(prof) / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(_PROFILE_XCU, encoding="utf-8")
        filt = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "pdf": "pdf"}[target]
        cmd = [exe, f"-env:UserInstallation=file://{prof}", "--headless", "--norestore", "--convert-to", filt,
               "--outdir", str(out_dir), *[str(f) for f in files]]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    outs = [out_dir / (Path(f).stem + "." + target) for f in files]
    missing = [o for o in outs if not o.exists()]
    if res.returncode != 0 or missing:
        raise LibreOfficeError(f"LibreOffice 转换失败（{res.returncode}）：{res.stderr.strip()[-500:]}")
    return outs


def recalculate(files: list[Path], out_dir: Path) -> list[Path]:
    """Recalculate and re-save as .xlsx, exactly as a unit's LibreOffice would."""
    return convert(files, out_dir, "xlsx")
