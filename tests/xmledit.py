"""Edits of a generated return at the zip/XML level, the way a determined unit or a broken export tool can."""

from __future__ import annotations

import io
import re
import zipfile

from workbook.fill import cell_style, set_cell_xml
from workbook.read import read_return
from workbook.xlsx import read_book, split_ref

from .hostile import rezip

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def where(data: bytes, name: str) -> tuple[str, str]:
    """(sheet, A1) of a single-cell defined name."""
    ret = read_return("x.xlsx", data)
    sheet, ref, _ = split_ref(ret.names[name])
    return sheet, ref


def part_of(data: bytes, sheet: str) -> str:
    return read_book(zipfile.ZipFile(io.BytesIO(data))).sheet(sheet).part


def read_part(data: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(name)


def edit_part(data: bytes, name: str, fn) -> bytes:
    return rezip(data, edit=lambda n, p: fn(p.decode("utf-8")).encode("utf-8") if n == name else p)


def set_named(data: bytes, name: str, inner: str, attrs: str = "") -> bytes:
    """Replace the cell behind a defined name with <c r=… s=…{attrs}>{inner}</c> (its style kept)."""
    sheet, ref = where(data, name)
    style = cell_style(data, sheet, ref)
    return set_cell_xml(data, sheet, ref, f'<c r="{ref}"{style}{attrs}>{inner}</c>')


def set_cell(data: bytes, sheet: str, ref: str, inner: str, attrs: str = "") -> bytes:
    style = cell_style(data, sheet, ref)
    return set_cell_xml(data, sheet, ref, f'<c r="{ref}"{style}{attrs}>{inner}</c>')


def add_defined_name(data: bytes, xml: str) -> bytes:
    return edit_part(data, "xl/workbook.xml", lambda s: s.replace("</definedNames>", xml + "</definedNames>"))


def add_part(data: bytes, name: str, payload: bytes, content_type: str, rels_part: str, rel_type: str,
             target: str) -> bytes:
    """Add a part with its content type and a relationship to it from `rels_part`."""
    def edit(n: str, p: bytes) -> bytes:
        if n == "[Content_Types].xml":
            return p.replace(b"</Types>", f'<Override PartName="/{name}" ContentType="{content_type}"/></Types>'.encode())
        if n == rels_part:
            return p.replace(b"</Relationships>",
                             f'<Relationship Id="rId999" Type="{rel_type}" Target="{target}"/></Relationships>'.encode())
        return p
    return rezip(data, edit=edit, add={name: payload})


def set_sheet_state(data: bytes, sheet: str, state: str | None) -> bytes:
    def fn(s: str) -> str:
        m = re.search(rf'<sheet name="{re.escape(sheet)}"[^>]*/>', s)
        tag = re.sub(r' state="\w+"', "", m.group(0))
        if state:
            tag = tag.replace("/>", f' state="{state}"/>')
        return s[: m.start()] + tag + s[m.end():]
    return edit_part(data, "xl/workbook.xml", fn)


def add_number_format(data: bytes, sheet: str, ref: str, code: str) -> bytes:
    """Give one cell a copy of its style with number format `code`."""
    styles = read_part(data, "xl/styles.xml").decode()
    style = cell_style(data, sheet, ref)
    index = int(re.search(r'\d+', style).group(0))
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S)
    items = re.findall(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", xfs.group(1), re.S)
    new_xf = re.sub(r'numFmtId="\d+"', 'numFmtId="300"', items[index])
    code_attr = code.replace('"', "&quot;")
    styles = styles.replace("</numFmts>", f'<numFmt numFmtId="300" formatCode="{code_attr}"/></numFmts>')
    styles = styles.replace("</cellXfs>", new_xf + "</cellXfs>")
    data = rezip(data, edit=lambda n, p: styles.encode() if n == "xl/styles.xml" else p)
    m = re.search(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', read_part(data, part_of(data, sheet)).decode(), re.S)
    cell = re.sub(r' s="\d+"', f' s="{len(items)}"', m.group(0))
    return set_cell_xml(data, sheet, ref, cell)


def drop_custom_property(data: bytes, prop: str) -> bytes:
    return edit_part(data, "docProps/custom.xml",
                     lambda s: re.sub(rf'<property [^>]*name="{prop}".*?</property>', "", s, flags=re.S))


def drop_protection(data: bytes, sheet: str) -> bytes:
    return edit_part(data, part_of(data, sheet), lambda s: re.sub(r"<sheetProtection[^>]*/>", "", s))
