"""Read a returned workbook into a Return: inputs by defined name, cached values, every formula.

One pass over the zip with a hardened XML parser; nothing is located by hard-coded
coordinates.  The file is never modified or re-saved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .outputs import os_error_zh
from .safety import MAX_FILE_BYTES, Rejected, SafeZip, open_safely
from .template import Template, known_templates
from .xlsx import (
    BookInfo,
    XmlRefused,
    as_utf8,
    decode_xstring,
    local,
    package_part,
    parse_cell,
    parse_xml,
    range_cells,
    read_book,
    split_ref,
)

_EPOCH = dt.datetime(1899, 12, 30)
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MAIN = "{" + MAIN_NS + "}"
STRICT = "{http://purl.oclc.org/ooxml/spreadsheetml/main}"


class CellData:
    """One cell as read: value, formula text (with '='), style index, whether a value was stored."""

    __slots__ = ("value", "formula", "style", "has_value", "bad")

    def __init__(self, value: Any, formula: str | None, style: int, has_value: bool, bad: bool = False):
        self.value, self.formula, self.style, self.has_value = value, formula, style, has_value
        self.bad = bad  # the stored value is not one a spreadsheet reads as written (see Unreadable)


@dataclass
class Return:
    """Everything read from one returned workbook."""

    file: str
    sha256: str
    size: int
    template_id: str | None = None
    template_version: str | None = None
    template_hash: str | None = None
    return_id: str | None = None
    generated_at: str | None = None
    meta: dict[str, str] = field(default_factory=dict)  # jixiao_* document properties (identity at generation)
    meta_sheet: dict[str, str] = field(default_factory=dict)  # the hidden metadata sheet's copy (jx_* cells)
    saved_at: str | None = None  # docProps/core.xml dcterms:modified: when a spreadsheet program last saved it
    unit: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    input_cells: dict[str, str] = field(default_factory=dict)  # key -> "sheet!A1"
    cached: dict[str, Any] = field(default_factory=dict)  # named formula cell -> cached value
    uncached: set[str] = field(default_factory=set)  # named formula cells without a cached value
    formulas: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet, A1) -> formula text
    unlocked: set[tuple[str, str]] = field(default_factory=set)  # cells whose style is unlocked
    notes: dict[str, str] = field(default_factory=dict)
    explanations: dict[str, str] = field(default_factory=dict)  # 审核 row id -> 审核说明
    tables: dict[str, list[list[Any]]] = field(default_factory=dict)
    sheets: list[tuple[str, str]] = field(default_factory=list)  # (name, state)
    names: dict[str, str] = field(default_factory=dict)
    structure_locked: bool = False
    protected: dict[str, bool] = field(default_factory=dict)
    template: Template | None = None
    row_form: Any = None  # a row form (附件3-1, workbook.form.rowform.RowForm) when the return is one
    rejected: str | None = None  # reason, when the file is not a readable .xlsx
    # what only verification needs (dropped by drop_layout):
    anomalies: list[tuple[str, str]] = field(default_factory=list)  # (where, message): readable two ways
    local_names: list[tuple[str, str, str]] = field(default_factory=list)  # sheet-local names (name, sheet, text)
    constants: dict[str, dict[str, Any]] = field(default_factory=dict)  # sheet -> ref -> constant value
    shown: dict[tuple[str, str], Any] = field(default_factory=dict)  # formula cell -> cached value
    formats: dict[tuple[str, str], str] = field(default_factory=dict)  # formula cell -> number format code
    invisible: set[tuple[str, str]] = field(default_factory=set)  # formula cells hidden or unreadable colour
    input_problems: dict[str, str] = field(default_factory=dict)  # input key -> message naming the cell
    props_present: set[str] = field(default_factory=set)  # jixiao_* document properties present

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the template by its (id, version): worker results stay small."""
        state = dict(self.__dict__)
        state["template"] = state["row_form"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.template_id and self.rejected is None:
            self.template = known_templates().get((self.template_id, self.template_version or ""))
            if self.template is None:
                from .form.rowform import row_forms

                self.row_form = row_forms().get((self.template_id, self.template_version or ""))

    def drop_layout(self) -> None:
        """Forget what only verification needs (every formula, unlocked cells) once it is done."""
        self.formulas = {}
        self.unlocked = set()
        self.constants, self.shown, self.formats, self.invisible = {}, {}, {}, set()


# ---------------------------------------------------------------------------


def _custom_props(zf, anomalies: list[tuple[str, str]]) -> dict[str, str]:
    part = package_part(zf, "custom-properties")
    if part is None:
        return {}
    try:
        data = zf.read(part)
    except KeyError:
        return {}
    out: dict[str, str] = {}
    for prop in parse_xml(data):
        if not isinstance(prop.tag, str):
            continue
        name = prop.get("name")
        if name and len(prop):
            if name in out:
                anomalies.append((name, f"文档属性 {name} 出现了两次"))
                continue
            out[name] = text_of(prop[0]).strip()
    return out


def text_of(el) -> str:
    """An element's text (comments are already dropped by the parser, CDATA is text)."""
    return (el.text or "") if not len(el) else el.xpath("string()")


class SharedStrings:
    """The shared-strings table as Excel reads it: the main-namespace <si> children of <sst>, each
    the text of its <t> and of its runs' <t>, never of phonetic <rPh> runs.  Items are turned into
    text on demand; identical tables (one base workbook per batch) are parsed once."""

    def __init__(self, data: bytes):
        root = parse_xml(data)
        ns = MAIN if root.tag == MAIN + "sst" else STRICT if root.tag == STRICT + "sst" else None
        if ns is None:
            raise XmlRefused("共享字符串表的根元素不是 sst")
        self.tag_t, self.tag_r = ns + "t", ns + "r"
        tag_si = ns + "si"
        self.items = [el for el in root if el.tag == tag_si]
        self.cache: dict[int, str] = {}
        self.mixed = False  # some text read holds comments or other markup: readers disagree on it
        self.by_raw: dict[str, str] = {}  # the <v> text of a t="s" cell -> its string

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> str:
        text = self.cache.get(index)
        if text is not None:
            return text
        if index < 0:
            raise IndexError(index)
        si = self.items[index]
        if len(si) == 1:  # the common case: <si><t>text</t></si>
            t = si[0]
            if t.tag == self.tag_t and not len(t):
                text = t.text or ""
                text = self.cache[index] = decode_xstring(text) if "_x" in text else text
                return text
        texts = []
        for child in self.items[index]:
            if child.tag == self.tag_t:
                texts.append(child)
            elif child.tag == self.tag_r:
                texts.extend(g for g in child if g.tag == self.tag_t)
        self.mixed |= any(len(el) for el in texts)
        text = self.cache[index] = decode_xstring("".join(text_of(el) for el in texts))
        return text


@lru_cache(maxsize=8)
def _sst_cached(data: bytes) -> SharedStrings:
    return SharedStrings(data)


CACHED_PART_BYTES = 1 << 20  # larger parts (never a return's) are not kept between files


def _cached(cached, uncached, data: bytes):
    """A part read through its cache when it is small; a big hostile part is never retained."""
    return cached(data) if len(data) <= CACHED_PART_BYTES else uncached(data)


@dataclass(frozen=True)
class XfInfo:
    """What a cell style (cellXfs entry) means for verification."""

    locked: bool
    numfmt: str
    invisible: bool  # font colour equal to the fill colour, or white on no fill


_BUILTIN_FORMATS = {0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%",
                    11: "0.00E+00", 12: "# ?/?", 13: "# ??/??", 14: "mm-dd-yy", 49: "@"}


def _color(el) -> str | None:
    if el is None:
        return None
    rgb = el.get("rgb")
    if rgb:
        return rgb.upper()[-6:]
    if el.get("theme") == "0":
        return "FFFFFF"  # lt1: white in every built-in theme
    return None


@lru_cache(maxsize=8)
def _styles(data: bytes) -> tuple[XfInfo, ...]:
    root = parse_xml(data)
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    formats = dict(_BUILTIN_FORMATS)
    fonts: list[str | None] = []
    fills: list[str | None] = []
    xfs: list[XfInfo] = []
    for el in root:
        tag = el.tag
        if tag == ns + "numFmts":
            for nf in el:
                if nf.tag == ns + "numFmt" and (nf.get("numFmtId") or "").isdigit():
                    formats[int(nf.get("numFmtId"))] = nf.get("formatCode", "")
        elif tag == ns + "fonts":
            fonts = [_color(f.find(ns + "color")) for f in el if f.tag == ns + "font"]
        elif tag == ns + "fills":
            for fill in el:
                if fill.tag != ns + "fill":
                    continue
                pattern = fill.find(ns + "patternFill")
                solid = pattern is not None and pattern.get("patternType") not in (None, "none")
                fills.append(_color(pattern.find(ns + "fgColor")) if solid else None)
        elif tag == ns + "cellXfs":
            for xf in el:
                if xf.tag != ns + "xf":
                    continue
                prot = xf.find(ns + "protection")
                locked = not (prot is not None and prot.get("locked") in ("0", "false"))
                code = formats.get(int(xf.get("numFmtId") or 0) if (xf.get("numFmtId") or "0").isdigit() else -1, "?")
                font = _at(fonts, xf.get("fontId"))
                fill = _at(fills, xf.get("fillId"))
                invisible = font is not None and (font == fill or (font == "FFFFFF" and fill is None))
                xfs.append(XfInfo(locked, code, invisible))
    return tuple(xfs)


def _at(items: list, index: str | None):
    try:
        return items[int(index or 0)]
    except (ValueError, IndexError):
        return None


_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[Ee][+-]?[0-9]+)?")
_SMALL_INT = re.compile(r"-?[0-9]{1,15}")
EXCEL_MAX = 9.99999999999999e307


def parse_number(text: str) -> int | float | None:
    """A <v> number in the lexical form spreadsheets write; None for anything else, non-finite or
    beyond Excel's range (full-width digits, 1_000, nan, inf, 1E+400, spaces …)."""
    if _SMALL_INT.fullmatch(text):
        return int(text)
    if not _NUMBER.fullmatch(text):
        return None
    x = float(text)
    if x != x or abs(x) > EXCEL_MAX:
        return None
    return x


def external_reference(formula: str) -> bool:
    """A formula (or defined name) that reaches outside the workbook: DDE (app|topic!item) or an
    external workbook reference ([1]Sheet!A1, '[book.xlsx]Sheet'!A1, 'C:\\dir\\[b.xlsx]S'!A1)."""
    if "[" not in formula and "|" not in formula:
        return False
    outside = re.sub(r'"(?:[^"]|"")*"', "", formula)  # string literals are data
    return "[" in outside or "|" in outside


class Unreadable(str):
    """The raw text of a value no spreadsheet reads as written (kept for messages)."""


class SheetRead:
    """One sheet as read: the cells verification needs, every constant cell, hidden rows and columns."""

    __slots__ = ("cells", "constants", "hidden_rows", "hidden_cols", "all_hidden", "protected", "anomalies",
                 "is_worksheet")

    def __init__(self) -> None:
        self.cells: dict[str, CellData] = {}
        self.constants: dict[str, Any] = {}  # ref -> value of every non-formula cell holding a value
        self.hidden_rows: set[int] = set()
        self.hidden_cols: list[tuple[int, int]] = []
        self.all_hidden = False
        self.protected = False
        self.anomalies: list[tuple[str, str]] = []
        self.is_worksheet = True

    def hidden(self, ref: str) -> bool:
        if not (self.all_hidden or self.hidden_rows or self.hidden_cols):
            return False
        row, col = parse_cell(ref)
        return self.all_hidden or row + 1 in self.hidden_rows or any(a <= col + 1 <= b for a, b in self.hidden_cols)


_SHEET_DATA_END = re.compile(rb"</(?:\w+:)?sheetData>")
_PROTECTION = re.compile(rb"<(?:\w+:)?sheetProtection\b[^>]*>")
_ROOT_CLOSE = re.compile(rb"<(\w+:)?worksheet\b")
_TAIL_FORMULA = re.compile(rb"<(?:\w+:)?formula[12]?>([^<]*)<")
_REF_OK = re.compile(r"[A-Z]{1,3}[1-9][0-9]{0,6}")
_REFS_OK = re.compile(r"(?:[A-Z]{1,3}[1-9][0-9]{0,6} )*")
_PREFIXED_ATTR = re.compile(rb":[rst]\s*=")  # a prefixed r, s or t attribute (beside the plain one?)


def _head(data: bytes) -> tuple[bytes, bytes]:
    """The sheet XML up to </sheetData>, closed; and the rest (protection, validations …).

    What follows sheetData (merges, validations, conditional formats, page setup) is
    only scanned for sheet protection and for formulas reaching outside the workbook.
    """
    end = _SHEET_DATA_END.search(data)
    if not end:
        return data, data
    root = _ROOT_CLOSE.search(data)
    prefix = (root.group(1) or b"") if root else b""
    return data[: end.end()] + b"</" + prefix + b"worksheet>", data[end.end():]


def _parse_sheet(data: bytes, sst: SharedStrings | list[str], wanted: set[str] | None = None,
                 unlocked_styles: set[str] | None = None) -> SheetRead:
    """Read one sheet in one pass.  Formula cells, the wanted refs and unlocked cells become CellData;
    every other cell holding a value goes to `constants` (compared with the template's labels)."""
    out = SheetRead()
    head, tail = _head(as_utf8(data))
    prot = _PROTECTION.search(tail)
    out.protected = bool(prot and re.search(rb'\bsheet="(1|true)"', prot.group(0)))
    for m in _TAIL_FORMULA.finditer(tail) if b"|" in tail or b"[" in tail else ():
        if external_reference(m.group(1).decode("utf-8", "replace")):
            raise Rejected("数据校验或条件格式的公式引用了其他工作簿或 DDE 链接，不予接受")
    root = parse_xml(head)
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    if root.tag[len(ns):] != "worksheet" or ns not in (MAIN, STRICT):
        out.is_worksheet = False
        return out
    tag_c, tag_f, tag_v, tag_is, tag_row = ns + "c", ns + "f", ns + "v", ns + "is", ns + "row"
    tag_t, tag_r = ns + "t", ns + "r"
    cells, constants, anomalies = out.cells, out.constants, out.anomalies
    shared: dict[str, tuple[str, str]] = {}  # si -> (master ref, formula)
    pending: list[tuple[str, str]] = []
    sheet_data = None
    for el in root:
        tag = el.tag
        if tag == ns + "sheetData":
            sheet_data = el
        elif tag == ns + "cols":
            for col in el:
                if col.get("hidden") in ("1", "true") or col.get("width") in ("0", "0.0"):
                    try:
                        out.hidden_cols.append((int(col.get("min", "0")), int(col.get("max", "0"))))
                    except ValueError:
                        out.all_hidden = True
        elif tag == ns + "sheetFormatPr" and el.get("zeroHeight") in ("1", "true"):
            out.all_hidden = True
    if sheet_data is None:
        return out
    unlocked_s = unlocked_styles or set()
    wanted = wanted or set()
    seen: list[str] = []
    # rare constructs checked per cell only when the sheet's bytes contain them at all
    prefixed = _PREFIXED_ATTR.search(head, head.find(b">", head.find(b"worksheet")) + 1) is not None
    nsst = len(sst)
    seen_add = seen.append
    by_raw: dict[str, str] = sst.by_raw if isinstance(sst, SharedStrings) else {}
    for row in sheet_data.iterchildren(tag_row):  # foreign (ignorable) elements are skipped, as by Excel
        if row.get("hidden") in ("1", "true") or row.get("ht") in ("0", "0.0"):
            rnum = row.get("r")
            if rnum and rnum.isascii() and rnum.isdigit():
                out.hidden_rows.add(int(rnum))
            else:
                out.all_hidden = True
        for c in row.iterchildren(tag_c):
            ref = c.get("r")
            if ref is None or prefixed:
                if _cell_anomaly(c, ref, anomalies):
                    continue
            seen_add(ref)
            style = c.get("s")
            n = len(c)
            if n == 0:  # blank: only its style matters
                if ref in wanted or style in unlocked_s:
                    cells[ref] = CellData(None, None, int(style) if style and style.isdigit() else _style(style, ref, anomalies), False)
                continue
            t = c.get("t")
            child = c[0]
            if n == 1 and child.tag == tag_v:  # the common case: a stored value, no formula
                vtext = child.text
                bad = False
                if vtext is None:
                    value = None
                elif t == "s":
                    value = by_raw.get(vtext)
                    if value is None:
                        idx = int(vtext) if vtext.isascii() and vtext.isdigit() else nsst
                        if idx < nsst:
                            value = by_raw[vtext] = sst[idx]
                        else:
                            value, bad = Unreadable(vtext), True
                elif t is None or t == "n":
                    if vtext.isascii() and vtext.isdigit() and len(vtext) < 16:
                        value = int(vtext)
                    else:
                        value = parse_number(vtext)
                        if value is None:
                            value, bad = Unreadable(vtext), True
                else:
                    value, bad = _typed(t, vtext)
                if value is not None and value != "":
                    constants[ref] = value
                if ref in wanted or style in unlocked_s:
                    cells[ref] = CellData(value, None, int(style) if style and style.isdigit() else _style(style, ref, anomalies),
                                          vtext is not None, bad)
                continue
            v = f = is_ = None
            order_bad = False
            for child in c:
                ctag = child.tag
                if ctag == tag_v:
                    order_bad |= v is not None
                    v = child
                elif ctag == tag_f:
                    order_bad |= f is not None or v is not None
                    f = child
                elif ctag == tag_is:
                    order_bad |= is_ is not None
                    is_ = child
            if order_bad:
                anomalies.append((ref, f"{ref} 的单元格结构异常（<v>/<f> 重复或 <v> 写在 <f> 之前，各程序读法不同）"))
            vtext = v.text if v is not None else None
            formula = None
            if f is not None:
                ftext = f.text or ""
                if ftext and external_reference(ftext):
                    raise Rejected(f"{ref} 的公式 ={ftext[:60]} 引用了其他工作簿或 DDE 链接，不予接受")
                if f.get("t") == "shared":
                    si = f.get("si", "")
                    if ftext:
                        shared[si] = (ref, ftext)
                    else:
                        pending.append((ref, si))
                formula = "=" + ftext
            has_value = vtext is not None
            bad = False
            if t == "inlineStr":
                if is_ is not None and len(is_) == 1 and is_[0].tag == tag_t and not len(is_[0]):
                    text = is_[0].text or ""  # the common case: one plain <t>
                    value = decode_xstring(text) if "_x" in text else text
                elif is_ is not None:
                    texts = []
                    for child in is_:
                        if child.tag == tag_t:
                            texts.append(child)
                        elif child.tag == tag_r:
                            texts.extend(g for g in child if g.tag == tag_t)
                    if any(len(el) for el in texts):
                        anomalies.append((ref, f"{ref} 的文字中夹有其他元素（各程序读法不同）"))
                    value = decode_xstring("".join(text_of(el) for el in texts))
                else:
                    value = None
                has_value = is_ is not None
            elif vtext is None:
                value = None
            elif t == "s":
                idx = int(vtext) if vtext.isascii() and vtext.isdigit() else nsst
                value, bad = (sst[idx], False) if idx < nsst else (Unreadable(vtext), True)
            elif t is None or t == "n":
                value = parse_number(vtext)
                if value is None:
                    value, bad = Unreadable(vtext), True
            elif t == "str":
                value = decode_xstring(vtext) if "_x" in vtext else vtext
            else:
                value, bad = _typed(t, vtext)
            if formula is None:
                if value is not None and value != "":
                    constants[ref] = value
                if ref not in wanted and style not in unlocked_s:
                    continue
            cells[ref] = CellData(value, formula, int(style) if style and style.isdigit() else _style(style, ref, anomalies),
                                  has_value, bad)
    if seen and not _REFS_OK.fullmatch(" ".join(seen) + " "):
        odd = sorted(r for r in set(seen) if not _REF_OK.fullmatch(r))
        anomalies.extend((r, f"单元格位置 r=“{r}” 写法不规范，各程序会把它放到不同位置") for r in odd)
    if len(set(seen)) != len(seen):
        counts: dict[str, int] = {}
        for r in seen:
            counts[r] = counts.get(r, 0) + 1
        anomalies.extend((r, f"单元格 {r} 出现了两次（各程序取用的不同）") for r, n in counts.items() if n > 1)
    if pending:
        from openpyxl.formula.translate import Translator

        for ref, si in pending:
            if si in shared and ref in cells:
                origin, text = shared[si]
                try:
                    cells[ref].formula = Translator("=" + text, origin=origin).translate_formula(ref)
                except Exception:  # noqa: BLE001 - an untranslatable shared formula is simply different
                    cells[ref].formula = "=" + text
    return out


def _style(style: str | None, ref: str, anomalies: list[tuple[str, str]]) -> int:
    if not style:
        return 0
    anomalies.append((ref, f"{ref} 的样式编号 {style} 无效"))
    return 0


def _typed(t: str, vtext: str) -> tuple[Any, bool]:
    """(value, unreadable) of a stored value of type b, str, e, d or an unknown type."""
    if t == "b":
        return (vtext == "1", False) if vtext in ("0", "1") else (Unreadable(vtext), True)
    if t in ("str", "e"):
        return decode_xstring(vtext), False
    if t == "d":
        return vtext, False
    return Unreadable(vtext), True


def _cell_anomaly(c, ref: str | None, anomalies: list[tuple[str, str]]) -> bool:
    """Record why a <c> can be read two ways; True when the cell cannot be placed at all."""
    if ref is None:
        anomalies.append(("?", "单元格缺少位置（r）属性，各程序会把它放到不同位置"))
        return True
    by_local: set[str] = set()
    for key in c.attrib:
        name = local(key)
        if name in by_local:
            anomalies.append((ref, f"单元格 {ref} 的属性 {name} 重复（带不同命名空间前缀）"))
        by_local.add(name)
    return False


@lru_cache(maxsize=8)
def _wanted(targets: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """Sheet -> the cells defined names point at (ranges up to 400 cells); the same for a whole batch."""
    out: dict[str, set[str]] = {}
    for target in targets:
        loc = split_ref(target)
        if loc:
            refs = [r for row in range_cells(loc[1], loc[2]) for r in row] if loc[2] else [loc[1]]
            out.setdefault(loc[0], set()).update(refs[:400])
    return {k: frozenset(v) for k, v in out.items()}


def _identify(ret: Return, props: dict[str, str], book: BookInfo) -> None:
    ret.template_id = props.get("jixiao_template_id")
    ret.template_version = props.get("jixiao_template_version")
    ret.template_hash = props.get("jixiao_template_hash")
    ret.return_id = props.get("jixiao_return_id")
    ret.generated_at = props.get("jixiao_generated_at")
    ret.meta = {k.removeprefix("jixiao_"): v for k, v in props.items() if k.startswith("jixiao_")}


def _meta_sheet(book: BookInfo, named) -> dict[str, str]:
    """The jx_* cells of the hidden metadata sheet, as text (numbers a program re-typed back to text)."""
    out = {}
    for name in book.names:
        if name.startswith("jx_"):
            cell = named(name)
            value = None if cell is None else cell.value
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if value not in (None, ""):
                out[name[3:]] = str(value)
    return out


_MODIFIED = re.compile(rb"<(?:\w+:)?modified\b[^>]*>\s*([^<]{1,64}?)\s*<")


def _core_modified(zf, names: set[str]) -> str | None:
    """dcterms:modified of docProps/core.xml (ISO 8601 text), if present."""
    if "docProps/core.xml" not in names:
        return None
    m = _MODIFIED.search(zf.read("docProps/core.xml"))
    if not m:
        return None
    try:
        when = dt.datetime.fromisoformat(m.group(1).decode("ascii").replace("Z", "+00:00"))
    except (UnicodeDecodeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def read_return(path: str | Path, data: bytes | None = None) -> Return:
    """Read one returned workbook.  A hostile or broken file gives a Return with `rejected` set."""
    p = Path(path)
    if data is None:
        try:
            size = p.stat().st_size
            if size > MAX_FILE_BYTES:  # refused by its size before anything is read into memory
                return Return(str(p), "", size, rejected=f"文件过大（{size / 1048576:.1f} MB），一份自评表应远小于 1 MB")
            data = p.read_bytes()
        except OSError as exc:
            return Return(str(p), "", 0, rejected=f"无法读取文件：{os_error_zh(exc)}")
    ret = Return(str(p), hashlib.sha256(data).hexdigest(), len(data))
    try:
        safe = open_safely(p, data)
        _read(ret, safe)
    except Rejected as exc:
        ret.rejected = exc.reason
    except XmlRefused as exc:
        ret.rejected = f"{exc}（疑似 XML 实体攻击），不予解析"
    except KeyError as exc:
        ret.rejected = f"文件缺少必要部件 {exc}"
    except FILE_FAULTS as exc:  # a parser failing on the file's content: the file's fault
        ret.rejected = f"文件结构损坏，无法解析（{type(exc).__name__}: {str(exc)[:120]}）"
    return ret  # any other exception (TypeError, AttributeError…) is a jixiao bug and propagates as one


def _file_faults() -> tuple[type[BaseException], ...]:
    import zipfile
    import zlib

    from lxml import etree

    return (etree.LxmlError, zipfile.BadZipFile, zlib.error, UnicodeError, ValueError, IndexError, EOFError,
            OverflowError, RecursionError)


FILE_FAULTS = _file_faults()


def _read(ret: Return, safe: SafeZip) -> None:
    zf = safe.zf
    book = read_book(zf)
    ret.sheets = [(s.name, s.state) for s in book.sheets]
    ret.names = dict(book.names)
    ret.structure_locked = book.structure_locked
    ret.anomalies = list(book.anomalies)
    ret.local_names = list(book.local_names)
    texts = [*book.names.items(), *((n, x) for n, _, x in book.local_names)]
    joined = "".join(x for _, x in texts)
    if "[" in joined or "|" in joined:
        for name, text in texts:
            if external_reference(text):
                raise Rejected(f"名称 {name} 引用了其他工作簿或 DDE 链接（{text[:60]}），不予接受")
    props = _custom_props(zf, ret.anomalies)
    ret.props_present = {k for k in props if k.startswith("jixiao_")}
    _identify(ret, props, book)
    sst: SharedStrings | list[str] | None = None
    parsed: dict[str, SheetRead] = {}
    wanted = _wanted(tuple(book.names.values()))
    xfs: tuple[XfInfo, ...] = ()
    unlocked_styles: set[int] | None = None
    unlocked_s: set[str] = set()

    def sheet_read(name: str) -> SheetRead:
        nonlocal sst, unlocked_styles, unlocked_s, xfs
        if name not in parsed:
            info = book.sheet(name)
            try:
                data = zf.read(info.part) if info is not None else None
            except KeyError:
                data = None
            if data is None:
                parsed[name] = SheetRead()
            else:
                if sst is None:
                    sst_part = book.parts.get("sharedStrings")
                    sst = _cached(_sst_cached, SharedStrings, zf.read(sst_part)) if sst_part else []
                    styles_part = book.parts.get("styles")
                    xfs = _cached(_styles, _styles.__wrapped__, zf.read(styles_part)) if styles_part else ()
                    unlocked_styles = {i for i, xf in enumerate(xfs) if not xf.locked}
                    unlocked_s = {str(i) for i in unlocked_styles}
                sheet = parsed[name] = _parse_sheet(data, sst, wanted.get(name, set()), unlocked_s)
                ret.protected[name] = sheet.protected
                ret.anomalies.extend((f"{name}!{where}", f"「{name}」{msg}") for where, msg in sheet.anomalies)
        return parsed[name]

    def sheet_cells(name: str) -> dict[str, CellData]:
        return sheet_read(name).cells

    def named(name: str) -> CellData | None:
        loc = split_ref(book.names.get(name, ""))
        if not loc or loc[2]:
            return None
        return sheet_cells(loc[0]).get(loc[1])

    def collect_layout() -> None:
        """Every sheet's constants, formula cells (text, shown value, format, visibility) and unlocked cells."""
        if isinstance(sst, SharedStrings) and sst.mixed:
            ret.anomalies.append(("sharedStrings", "共享字符串的文字中夹有其他元素（各程序读法不同）"))
        nxf = len(xfs)
        formulas, shown, formats, invisible = ret.formulas, ret.shown, ret.formats, ret.invisible
        for sheet_name, _ in ret.sheets:
            sheet = sheet_read(sheet_name)
            ret.constants[sheet_name] = sheet.constants
            hides = sheet.all_hidden or sheet.hidden_rows or sheet.hidden_cols
            for ref, cell in sheet.cells.items():
                if cell.formula:
                    key = (sheet_name, ref)
                    formulas[key] = cell.formula
                    shown[key] = cell.value if cell.has_value else None
                    xf = xfs[cell.style] if cell.style < nxf else None
                    formats[key] = xf.numfmt if xf else "?"
                    if (xf is not None and xf.invisible) or (hides and sheet.hidden(ref)):
                        invisible.add(key)
                if unlocked_styles and cell.style in unlocked_styles:
                    ret.unlocked.add((sheet_name, ref))

    ret.meta_sheet, ret.saved_at = _meta_sheet(book, named), _core_modified(zf, safe.names)
    if not ret.template_id:  # metadata sheet, when document properties were lost
        for key in ("template_id", "template_version", "template_hash", "return_id", "generated_at"):
            value = ret.meta_sheet.get(key)
            if value not in (None, ""):
                setattr(ret, key, value)
    ret.template = known_templates().get((ret.template_id or "", ret.template_version or ""))
    if ret.template is None:
        from .form.rowform import row_forms

        ret.row_form = row_forms().get((ret.template_id or "", ret.template_version or ""))
        if ret.row_form is not None:
            from .rowread import read_row_return

            read_row_return(ret, ret.row_form, book.names, named, sheet_read)
            collect_layout()
        return  # otherwise not a return of a template this installation knows: nothing more to read

    from .form.unit import IDENTITY_KEYS
    from .formulas import named_formulas

    t = ret.template
    for key, spec in t.inputs.items():
        loc = split_ref(book.names.get(key, ""))
        if not loc:
            continue
        ret.input_cells[key] = f"{loc[0]}!{loc[1]}"
        cell = sheet_cells(loc[0]).get(loc[1])
        value = cell.value if cell else None
        if cell is not None and cell.formula is not None:
            ret.input_problems[key] = (f"「{loc[0]}」{loc[1]}（{spec.label}）是公式 {cell.formula[:80]}，"
                                       "填报单元格只能直接填写数值或文字（电子表格显示的是公式的结果）")
        elif cell is not None and cell.bad:
            ret.input_problems[key] = (f"「{loc[0]}」{loc[1]}（{spec.label}）的值“{str(value)[:40]}”"
                                       "不是电子表格能识别的数字或文字（全角数字、非数、无穷大或超出范围）")
        if spec.type == "date" and isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                value = (_EPOCH + dt.timedelta(days=float(value))).date().isoformat()
            except (OverflowError, ValueError):
                ret.input_problems.setdefault(key, f"「{loc[0]}」{loc[1]}（{spec.label}）的日期序号 {value} 超出范围")
        if isinstance(value, str) and spec.type != "text" and value.strip() == "":
            value = None
        ret.inputs[key] = str(value) if isinstance(value, Unreadable) else value
    for ind in t.indicators:
        cell = named(f"note_{ind.id}")
        if cell is not None and cell.value not in (None, ""):
            ret.notes[ind.id] = str(cell.value)
    for name in book.names:
        if name.startswith("explain_"):
            cell = named(name)
            if cell is not None and cell.value not in (None, ""):
                ret.explanations[name.removeprefix("explain_")] = str(cell.value)
    for table in t.form.table_columns:
        loc = split_ref(book.names.get(table, ""))
        if not loc or not loc[2]:
            continue
        cells = sheet_cells(loc[0])
        rows = []
        for row in range_cells(loc[1], loc[2]):
            values = [cells[r].value if r in cells else None for r in row]
            if any(v not in (None, "") for v in values):
                rows.append(values)
        ret.tables[table] = rows
    for name in named_formulas(t):
        cell = named(name)
        if cell is None:
            continue
        if cell.has_value:
            ret.cached[name] = cell.value
        elif cell.formula:
            ret.uncached.add(name)
    ret.unit = {k: ret.inputs.get(k) for k in IDENTITY_KEYS}
    collect_layout()
