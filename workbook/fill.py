"""Type values into a return's input cells by defined name, as a clerk would, without recalculating.

Cached formula values are left as they were (stale), so a spreadsheet program or the
verifier has to recompute them.  Used by the demo and the tests; never on a real return.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .generate.patch import input_xml
from .template import Template, default_template
from .xlsx import find_cell, range_cells, read_book, split_ref, style_attr


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
        if key in t.form.table_columns:
            cells = range_cells(loc[1], loc[2] or loc[1])
            for i, row in enumerate(cells):
                for j, ref in enumerate(row):
                    v = value[i][j] if i < len(value) and j < len(value[i]) else None
                    edits.setdefault(sheet.part, []).append((ref, v, False))
        else:
            spec = t.inputs.get(key)
            edits.setdefault(sheet.part, []).append((loc[1], value, spec is not None and spec.type == "date"))
    return _rewrite(zin, {part: (lambda xml, e=e: _edit_sheet(xml, e)) for part, e in edits.items()})


def _rewrite(zin: zipfile.ZipFile, edits: dict[str, Callable[[str], str]]) -> bytes:
    """A copy of the zip with the named XML parts passed through their edit function."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            payload = zin.read(info.filename)
            if info.filename in edits:
                payload = edits[info.filename](payload.decode("utf-8")).encode("utf-8")
            zout.writestr(info.filename, payload)
    return out.getvalue()


def _edit_sheet(xml: str, edits: list[tuple[str, Any, bool]]) -> str:
    for ref, value, is_date in edits:
        m = find_cell(xml, ref)
        if not m:
            raise KeyError(f"单元格 {ref} 不在工作表中")
        xml = xml[: m.start()] + input_xml(ref, style_attr(m), value, is_date) + xml[m.end():]
    return xml


def _part(zin: zipfile.ZipFile, sheet_name: str) -> str:
    sheet = read_book(zin).sheet(sheet_name.strip("'"))
    if sheet is None:
        raise KeyError(f"没有工作表 {sheet_name}")
    return sheet.part


def cell_style(data: bytes, sheet_name: str, ref: str) -> str:
    """The ' s="N"' style attribute of a cell (to keep or borrow a cell's look when replacing it)."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    m = find_cell(zin.read(_part(zin, sheet_name)).decode("utf-8"), ref)
    if not m:
        raise KeyError(ref)
    return style_attr(m)


def set_cell_xml(data: bytes, sheet_name: str, ref: str, new_cell_xml: str) -> bytes:
    """Replace one cell's XML (tampering in tests and the demo: a formula replaced by a constant …)."""
    zin = zipfile.ZipFile(io.BytesIO(data))

    def replace(xml: str) -> str:
        m = find_cell(xml, ref)
        if not m:
            raise KeyError(ref)
        return xml[: m.start()] + new_cell_xml + xml[m.end():]

    return _rewrite(zin, {_part(zin, sheet_name): replace})
