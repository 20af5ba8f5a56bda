"""Type values into a return's input cells by defined name, as a clerk would, without recalculating.

Cached formula values are left as they were (stale), so a spreadsheet program or the
verifier has to recompute them.  Used by the demo and the tests; never on a real return.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from .generate.layout import TABLES
from .generate.patch import input_xml
from .template import Template, default_template
from .xlsx import range_cells, read_book, split_ref


def fill_return(src: str | Path | bytes, values: dict[str, Any], template: Template | None = None) -> bytes:
    """A copy of the workbook `src` with the named input cells set to `values` (None = blank)."""
    t = template or default_template()
    data = src if isinstance(src, bytes) else Path(src).read_bytes()
    zin = zipfile.ZipFile(io.BytesIO(data))
    book = read_book(zin)
    edits: dict[str, list[tuple[str, Any, bool]]] = {}
    for key, value in values.items():
        target = book.names.get(key)
        loc = split_ref(target) if target else None
        if not loc:
            raise KeyError(f"工作簿中没有名称 {key}")
        sheet = book.sheet(loc[0])
        if sheet is None:
            raise KeyError(f"名称 {key} 指向不存在的工作表 {loc[0]}")
        if key in TABLES:
            cells = range_cells(loc[1], loc[2] or loc[1])
            for i, row in enumerate(cells):
                for j, ref in enumerate(row):
                    v = value[i][j] if i < len(value) and j < len(value[i]) else None
                    edits.setdefault(sheet.part, []).append((ref, v, False))
        else:
            spec = t.inputs.get(key)
            edits.setdefault(sheet.part, []).append((loc[1], value, spec is not None and spec.type == "date"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            payload = zin.read(info.filename)
            if info.filename in edits:
                payload = _edit_sheet(payload.decode("utf-8"), edits[info.filename]).encode("utf-8")
            zout.writestr(info.filename, payload)
    return out.getvalue()


def _edit_sheet(xml: str, edits: list[tuple[str, Any, bool]]) -> str:
    for ref, value, is_date in edits:
        pattern = re.compile(rf'<c r="{ref}"((?: [a-zA-Z:]+="[^"]*")*)\s*(?:/>|>.*?</c>)', re.S)
        m = pattern.search(xml)
        if not m:
            raise KeyError(f"单元格 {ref} 不在工作表中")
        style = re.search(r' s="\d+"', m.group(1))
        new = input_xml(ref, style.group(0) if style else "", value, is_date)
        xml = xml[: m.start()] + new + xml[m.end():]
    return xml


def set_cell_xml(data: bytes, sheet_name: str, ref: str, new_cell_xml: str) -> bytes:
    """Replace one cell's XML (test helper for tampering: a formula replaced by a constant …)."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    book = read_book(zin)
    part = book.sheet(sheet_name).part
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            payload = zin.read(info.filename)
            if info.filename == part:
                xml = payload.decode("utf-8")
                m = re.search(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', xml, re.S)
                if not m:
                    raise KeyError(ref)
                xml = xml[: m.start()] + new_cell_xml + xml[m.end():]
                payload = xml.encode("utf-8")
            zout.writestr(info.filename, payload)
    return out.getvalue()
