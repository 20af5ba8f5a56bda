"""Low-level, hardened access to the parts of an .xlsx: workbook.xml, relationships, defined names.

Only used on zips that passed workbook.safety's checks.  XML is parsed with
entities, DTDs and network access off; any DOCTYPE is refused outright.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

# Comments and processing instructions are dropped and the text around them joined, as every
# spreadsheet reads it (CDATA is text too).
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                         dtd_validation=False, remove_comments=True, remove_pis=True)
REL_OFFICE_DOC = "officeDocument"


class XmlRefused(ValueError):
    """XML that declares a DTD or entities (billion laughs, XXE): never parsed."""


_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>")


def as_utf8(data: bytes) -> bytes:
    """A UTF-16 part (legal XML) as UTF-8 bytes without its declaration, so byte-level scans see it."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return _DECLARATION.sub(b"", data.decode("utf-16").encode("utf-8"))
    return data


def parse_xml(data: bytes) -> etree._Element:
    data = as_utf8(data)
    head = data[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data:
        raise XmlRefused("XML 含有 DTD 或实体声明")
    return etree.fromstring(data, PARSER)


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@dataclass
class SheetInfo:
    name: str
    part: str
    state: str  # visible | hidden | veryHidden


@dataclass
class BookInfo:
    workbook_part: str
    sheets: list[SheetInfo]
    names: dict[str, str]  # defined name -> formula text ('sheet'!$A$1)
    structure_locked: bool
    rels: dict[str, str] = field(default_factory=dict)
    parts: dict[str, str] = field(default_factory=dict)  # relationship type -> part (sharedStrings, styles)
    anomalies: list[tuple[str, str]] = field(default_factory=list)  # (where, Chinese message): readable two ways
    local_names: list[tuple[str, str, str]] = field(default_factory=list)  # (name, sheet, formula text)

    def sheet(self, name: str) -> SheetInfo | None:
        return next((s for s in self.sheets if s.name == name), None)


def _rels_data(zf: zipfile.ZipFile, part: str) -> bytes | None:
    base = posixpath.dirname(part)
    try:
        return zf.read(posixpath.join(base, "_rels", posixpath.basename(part) + ".rels"))
    except KeyError:
        return None


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationships of a part: id -> (type suffix, target part path)."""
    return _parse_rels(part, _rels_data(zf, part))


@lru_cache(maxsize=32)
def _parse_rels(part: str, data: bytes | None) -> dict[str, tuple[str, str]]:
    if data is None:
        return {}
    base = posixpath.dirname(part)
    out = {}
    for el in parse_xml(data):
        if not isinstance(el.tag, str) or local(el.tag) != "Relationship":
            continue
        target = el.get("Target", "")
        if el.get("TargetMode") == "External":
            resolved = target
        elif target.startswith("/"):
            resolved = target.lstrip("/")
        else:
            resolved = posixpath.normpath(posixpath.join(base, target))
        out[el.get("Id", "")] = (el.get("Type", "").rsplit("/", 1)[-1], resolved)
    return out


def workbook_part(zf: zipfile.ZipFile) -> str:
    for _, (kind, target) in _rels(zf, "").items():
        if kind == REL_OFFICE_DOC:
            return target
    return "xl/workbook.xml"


def package_part(zf: zipfile.ZipFile, kind: str) -> str | None:
    """The part a package-level relationship of `kind` (e.g. custom-properties) points at."""
    return next((target for k, target in _rels(zf, "").values() if k == kind), None)


def read_book(zf: zipfile.ZipFile) -> BookInfo:
    """The workbook part, its sheets and defined names (the same bytes in a batch are read once:
    the result is shared, so callers never modify it)."""
    part = workbook_part(zf)
    data, rels = zf.read(part), _rels_data(zf, part)
    if len(data) > 1 << 20:  # never a return's: read without keeping it
        return _read_book.__wrapped__(part, data, rels)
    return _read_book(part, data, rels)


@lru_cache(maxsize=16)
def _read_book(part: str, data: bytes, rels_data: bytes | None) -> BookInfo:
    root = parse_xml(data)
    rels = _parse_rels(part, rels_data)
    sheets = []
    names: dict[str, str] = {}
    locked = False
    anomalies: list[tuple[str, str]] = []
    local_names: list[tuple[str, str, str]] = []
    main = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    for el in root:
        if not isinstance(el.tag, str) or not el.tag.startswith(main):
            continue  # comments, processing instructions, foreign (ignorable) elements
        tag = el.tag[len(main):]
        if tag == "sheets":
            for sh in el:
                if sh.tag != main + "sheet":
                    continue
                rid = next((v for k, v in sh.attrib.items() if local(k) == "id"), "")
                target = rels.get(rid, ("", ""))[1]
                info = SheetInfo(sh.get("name", ""), target, sh.get("state", "visible"))
                if any(s.name.lower() == info.name.lower() for s in sheets):
                    anomalies.append((info.name, f"工作表名称“{info.name}”重复"))
                sheets.append(info)
        elif tag == "definedNames":
            tag_dn = main + "definedName"
            for dn in el:
                if dn.tag != tag_dn or not dn.get("name"):
                    continue
                name, text = dn.get("name"), (dn.text or "").strip()
                local_id = dn.get("localSheetId")
                if local_id is not None:
                    try:
                        sheet = sheets[int(local_id)].name
                    except (ValueError, IndexError):
                        sheet = local_id
                    local_names.append((name, sheet, text))
                    continue
                if name in names:
                    anomalies.append((name, f"名称 {name} 定义了两次（各电子表格程序取用的不同），无法确定其位置"))
                    continue  # keep the first, as LibreOffice does; the file is flagged anyway
                names[name] = text
        elif tag == "workbookProtection":
            locked = el.get("lockStructure") in ("1", "true")
        elif tag == "workbookPr" and el.get("date1904") in ("1", "true"):
            anomalies.append(("workbookPr", "工作簿改用了 1904 日期系统（日期序号的含义与模板不同）"))
        elif tag == "calcPr" and el.get("fullPrecision") in ("0", "false"):
            anomalies.append(("calcPr", "工作簿设置了“以显示精度为准”（计算结果与复算不同）"))
    if len({n.lower() for n in names}) != len(names):  # names are case-insensitive in every spreadsheet
        seen: set[str] = set()
        for name in names:
            if name.lower() in seen:
                anomalies.append((name, f"名称 {name} 与另一名称只差大小写（各电子表格程序视为同一名称）"))
            seen.add(name.lower())
    kinds = {kind: target for kind, target in rels.values()}
    return BookInfo(part, sheets, names, locked, {k: v[1] for k, v in rels.items()},
                    {k: kinds[k] for k in ("sharedStrings", "styles") if k in kinds}, anomalies, local_names)


_REF = re.compile(r"^=?(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


@lru_cache(maxsize=4096)
def split_ref(text: str) -> tuple[str, str, str | None] | None:
    """"'sheet'!$A$1" -> (sheet, "A1", None); a range -> (sheet, "A1", "B2"); else None."""
    m = _REF.match(text.strip())
    if not m:
        return None
    sheet = (m.group(1) or m.group(2)).replace("''", "'")
    first = f"{m.group(3)}{m.group(4)}"
    last = f"{m.group(5)}{m.group(6)}" if m.group(5) else None
    return sheet, first, last


def find_cell(xml: str, ref: str) -> re.Match | None:
    """The whole <c r="ref" …> element in sheet XML (self-closing or not); group 1 holds its attributes."""
    return re.search(rf'<c r="{ref}"((?: [a-zA-Z:]+="[^"]*")*)\s*(?:/>|>.*?</c>)', xml, re.S)


def style_attr(cell: re.Match) -> str:
    """The ' s="N"' attribute of a cell found by find_cell, or ''."""
    m = re.search(r' s="\d+"', cell.group(1))
    return m.group(0) if m else ""


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def cell_ref(row: int, col: int) -> str:
    """Zero-based (row, col) to A1."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


def parse_cell(ref: str) -> tuple[int, int]:
    """"B5" -> (row 4, col 1), zero-based."""
    m = re.match(r"([A-Z]+)(\d+)$", ref)
    if not m:
        raise ValueError(ref)
    return int(m.group(2)) - 1, col_index(m.group(1))


def range_cells(first: str, last: str) -> list[list[str]]:
    r1, c1 = parse_cell(first)
    r2, c2 = parse_cell(last)
    return [[cell_ref(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]


# SpreadsheetML string escapes (ST_Xstring): a character may be written as _xHHHH_, so a literal
# "_xHHHH_" in text is written with its underscore escaped, as _x005F_xHHHH_ (as XlsxWriter does).
_XSTRING_LITERAL = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_XSTRING_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def encode_xstring(text: str) -> str:
    """Escape literal `_xHHHH_` sequences so a spreadsheet shows them as typed."""
    return _XSTRING_LITERAL.sub(r"_x005F_\1", text)


def decode_xstring(text: str) -> str:
    """Decode `_xHHHH_` escapes the way Excel shows the text."""
    if "_x" not in text:
        return text
    return _XSTRING_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
