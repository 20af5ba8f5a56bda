"""Render one sheet of a workbook to PNG through LibreOffice (PDF) and pdftoppm, for the README.

usage: python scripts/screenshot.py WORKBOOK.xlsx "附件3-2 评分表" docs/score-sheet.png
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from workbook.libreoffice import convert


def only_sheet(src: Path, sheet: str, dst: Path) -> None:
    """A copy whose other sheets are hidden, so the PDF holds just `sheet`."""
    import re

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                xml = data.decode("utf-8")

                def fix(m: re.Match) -> str:
                    tag = re.sub(r' state="[^"]*"', "", m.group(0))
                    return tag if f'name="{sheet}"' in tag else tag.replace("<sheet ", '<sheet state="hidden" ')

                names = re.findall(r'<sheet [^>]*name="([^"]*)"', xml)
                xml = re.sub(r"<sheet [^>]*/>", fix, xml)
                xml = re.sub(r' activeTab="\d+"', "", xml)
                xml = xml.replace("<workbookView ", f'<workbookView activeTab="{names.index(sheet)}" ', 1)
                data = xml.encode("utf-8")
            elif info.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b' tabSelected="1"', b"")
            zout.writestr(info, data)


def main() -> None:
    src, sheet, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    crop = [int(x) for x in sys.argv[4].split(",")] if len(sys.argv) > 4 else None  # x,y,w,h at the given dpi
    dpi = sys.argv[5] if len(sys.argv) > 5 else "80"
    with tempfile.TemporaryDirectory() as d:
        single = Path(d) / "single.xlsx"
        only_sheet(src, sheet, single)
        pdf = convert([single], Path(d), "pdf")[0]
        cmd = ["pdftoppm", "-png", "-r", dpi, "-f", "1", "-l", "1"]
        if crop:
            cmd += ["-x", str(crop[0]), "-y", str(crop[1]), "-W", str(crop[2]), "-H", str(crop[3])]
        subprocess.run([*cmd, str(pdf), str(Path(d) / "page")], check=True)
        page = sorted(Path(d).glob("page*.png"))[0]
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(page, out)
    print(out)


if __name__ == "__main__":
    main()
