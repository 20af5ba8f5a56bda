"""Helpers for print tests: render workbooks to PDF with headless LibreOffice and read the PDF's text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import require_program, require_soffice


def require_poppler() -> None:
    require_program(shutil.which("pdftotext") and shutil.which("pdftoppm"), "pdftotext/pdftoppm", "poppler-utils",
                    "打印测试")


def require_print_tools() -> None:
    """LibreOffice, poppler, and Carlito (without Calibri's metric twin LibreOffice lays columns out wider)."""
    import os

    require_soffice()
    require_poppler()
    font = subprocess.run(["fc-match", "Calibri"], capture_output=True, text=True).stdout if shutil.which("fc-match") else ""
    if "Carlito" not in font and "Calibri" not in font:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true 但没有 Calibri 的等宽替代字体 Carlito：.ci/run 应该已安装 fonts-crosextra-carlito")
        pytest.skip("未安装 fonts-crosextra-carlito（Calibri 的等宽替代字体），LibreOffice 的列宽与 Excel 不同，跳过打印测试")


def squash(text: str) -> str:
    """Text without any whitespace (wrapped lines and full-width spaces do not matter)."""
    return re.sub(r"\s+", "", text)


def pdf_text(pdf: Path) -> str:
    """The PDF's text in drawing order (a wrapped cell's lines stay together)."""
    return subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def words_outside_page(pdf: Path) -> list[str]:
    """Words whose box lies (partly) outside their page: clipped when printed."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    out = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', xml, re.S):
        w, h = float(page.group(1)), float(page.group(2))
        for m in re.finditer(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">([^<]*)',
                             page.group(3)):
            x0, y0, x1, y1 = (float(m.group(i)) for i in range(1, 5))
            if x0 < -0.5 or y0 < -0.5 or x1 > w + 0.5 or y1 > h + 0.5:
                out.append(m.group(5))
    return out


def missing(texts: list[str], pdf_body: str) -> list[str]:
    body = squash(pdf_body)
    return [t for t in texts if squash(t) and squash(t) not in body]


def words(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    """(page, xMin, yMin, xMax, yMax, text) of every word pdftotext finds."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    out = []
    for n, page in enumerate(re.finditer(r"<page [^>]*>(.*?)</page>", xml, re.S), start=1):
        for m in re.finditer(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">([^<]*)',
                             page.group(1)):
            out.append((n, *(float(m.group(i)) for i in range(1, 5)), m.group(5)))
    return out


def overflowing(pdf: Path, text: str, next_label: str) -> list[str]:
    """Words of `text` drawn at or below `next_label` (the row after it): cut off by the cell when printed."""
    ws = words(pdf)
    label = next((w for w in ws if next_label in w[5]), None)
    if label is None:
        return [f"（找不到“{next_label}”）"]
    body = squash(text)
    return [w[5] for w in ws if w[0] == label[0] and len(w[5]) >= 4 and w[5] in body and w[4] > label[2] + 1]
