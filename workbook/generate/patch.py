"""Fill the variable cells of a base workbook for one unit, directly in the sheet XML.

Only what differs between two units' workbooks is rendered per unit: input cells,
the cached values of formula cells, the metadata sheet and the custom document
properties.  Everything else keeps the bytes (already deflated) of the base build.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from ..form.layout import Ctx, WorkbookPlan
from ..numbers import excel_number
from ..xlsx import cell_ref, encode_xstring, find_cell, style_attr
from .protection import ProtectionHash
from .render import protect_structure
from .zipwriter import Member, write_zip

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = dt.date(1899, 12, 30)
EXCEL_CELL_TEXT_MAX = 32767


def xml_text(value: str) -> str:
    return escape(_ILLEGAL_XML.sub("", value), {'"': "&quot;"})


def cell_text(value: str) -> str:
    """Cell text as XML: `_xHHHH_` escaped the SpreadsheetML way, then XML-escaped."""
    if len(value) > EXCEL_CELL_TEXT_MAX:
        raise ValueError(f"文字过长：{len(value)} 个字符，Excel 每个单元格最多 {EXCEL_CELL_TEXT_MAX} 个字符")
    return xml_text(encode_xstring(value))


def excel_serial(value: dt.date) -> int:
    if isinstance(value, dt.datetime):
        value = value.date()
    return (value - _EPOCH).days


def input_xml(ref: str, style: str, value: Any, is_date: bool = False) -> str:
    """The <c> element of an input cell holding `value` (None = blank)."""
    if value is None or (isinstance(value, str) and value == ""):
        return f'<c r="{ref}"{style}/>'
    if is_date:
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.strip()[:10])
            except ValueError:
                pass
        if isinstance(value, dt.date):
            return f'<c r="{ref}"{style}><v>{excel_serial(value)}</v></c>'
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return f'<c r="{ref}"{style}><v>{excel_number(value)}</v></c>'
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{cell_text(str(value))}</t></is></c>'


def formula_xml(ref: str, style: str, formula: str, cached: Any) -> str:
    """A formula cell with its cached result (a number, or text as t="str")."""
    f = xml_text(formula[1:] if formula.startswith("=") else formula)
    if isinstance(cached, (int, float, Decimal)) and not isinstance(cached, bool):
        return f'<c r="{ref}"{style}><f>{f}</f><v>{excel_number(cached)}</v></c>'
    text = "" if cached is None else str(cached)
    return f'<c r="{ref}"{style} t="str"><f>{f}</f><v>{cell_text(text)}</v></c>'


def custom_xml(props: dict[str, str]) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
             'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">']
    for pid, (name, value) in enumerate(props.items(), start=2):
        parts.append(f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" name="{xml_text(name)}">'
                     f"<vt:lpwstr>{xml_text(value)}</vt:lpwstr></property>")
    parts.append("</Properties>")
    return "".join(parts).encode("utf-8")


MAX_ROW_HEIGHT = 409.0  # Excel's limit, in points


def _grow_rows(xml: str, long_text, raw: dict[str, Any]) -> str:
    """Rows of long prefilled texts made tall enough to show (and print) the whole text."""
    from ..form.textfit import row_height

    for key, row, width, height in long_text:
        value = raw.get(key)
        if not isinstance(value, str) or len(value) * 2 < width:
            continue
        need = min(MAX_ROW_HEIGHT, row_height([(value, width)], height))
        if need > height:
            xml = re.sub(rf'(<row r="{row + 1}"[^>]*? ht=")[\d.]+(")', rf"\g<1>{need:g}\g<2>", xml, count=1)
    return xml


class SheetSlots:
    """A sheet's XML split around its variable cells: static segments and (cell, style attribute) slots."""

    def __init__(self, xml: bytes, cells: list):
        text = xml.decode("utf-8")
        found = []
        for cell in cells:
            ref = cell_ref(cell.row, cell.col)
            m = find_cell(text, ref)
            if not m:
                raise ValueError(f"cell {ref} not found in sheet XML")
            found.append((m.start(), m.end(), cell, ref, style_attr(m)))
        found.sort(key=lambda x: x[0])
        self.segments: list[str] = []
        self.slots: list[tuple[Any, str, str]] = []
        pos = 0
        for start, end, cell, ref, style in found:
            self.segments.append(text[pos:start])
            self.slots.append((cell, ref, style))
            pos = end
        self.segments.append(text[pos:])


class BaseWorkbook:
    """A base build prepared for fast per-unit rendering."""

    def __init__(self, data: bytes, plan: WorkbookPlan, protection: ProtectionHash):
        self.plan = plan
        zin = zipfile.ZipFile(io.BytesIO(data))
        self.order: list[str] = [i.filename for i in zin.infolist()]
        self.static: dict[str, Member] = {}
        self.slots: dict[str, SheetSlots] = {}
        self.sheet_of_part: dict[str, str] = {}
        self.long_text: dict[str, list[tuple[str, int, float, float]]] = {}  # part -> (key, row, width, height)
        for index, sheet in enumerate(plan.sheets, start=1):
            part = f"xl/worksheets/sheet{index}.xml"
            variable = [c for c in sheet.cells if c.kind in ("input", "formula")]
            if variable:
                self.slots[part] = SheetSlots(zin.read(part), variable)
                self.sheet_of_part[part] = sheet.name
            self.long_text[part] = [(c.key, c.row, sheet.widths.get(c.col, 8.43), sheet.heights.get(c.row, 15.0))
                                    for c in variable if c.kind == "input" and c.style == "input_long"
                                    and c.key in plan.template.inputs]
        for name in self.order:
            if name in self.slots or name == "docProps/custom.xml":
                continue
            payload = zin.read(name)
            if name == "xl/workbook.xml":
                payload = protect_structure(payload, protection)
            self.static[name] = Member.deflate(name, payload)
        self._cache: dict[str, tuple[str, Member]] = {}

    def render(self, ctx: Ctx, meta: dict[str, str], tables: dict[str, list[list[Any]]]) -> bytes:
        t = self.plan.template
        members = []
        for name in self.order:
            if name == "docProps/custom.xml":
                members.append(Member.deflate(name, custom_xml({f"jixiao_{k}": v for k, v in meta.items()})))
            elif name in self.slots:
                xml = self._sheet_xml(self.slots[name], ctx, meta, tables, t)
                xml = _grow_rows(xml, self.long_text.get(name, ()), ctx.raw)
                cached = self._cache.get(name)
                if cached and cached[0] == xml:
                    members.append(cached[1])
                else:
                    member = Member.deflate(name, xml.encode("utf-8"))
                    self._cache[name] = (xml, member)
                    members.append(member)
            else:
                members.append(self.static[name])
        return write_zip(members)

    @staticmethod
    def _sheet_xml(slots: SheetSlots, ctx: Ctx, meta: dict[str, str], tables: dict[str, list[list[Any]]], t) -> str:
        out = []
        for seg, (cell, ref, style) in zip(slots.segments, slots.slots, strict=False):
            out.append(seg)
            if cell.kind == "formula":
                out.append(formula_xml(ref, style, cell.value, cell.cached(ctx)))
                continue
            key = cell.key
            if key.startswith("meta."):
                value: Any = meta.get(key[5:])
            elif "." in key:
                table, index, column = key.split(".")
                rows = tables.get(table) or []
                i, j = int(index), t.form.table_columns[table].index(column)
                value = rows[i][j] if i < len(rows) and j < len(rows[i]) else None
            else:
                value = ctx.raw.get(key)
            spec = t.inputs.get(key)
            out.append(input_xml(ref, style, value, is_date=spec is not None and spec.type == "date"))
        out.append(slots.segments[-1])
        return "".join(out)

