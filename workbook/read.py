"""Read a returned workbook into a Return: inputs by defined name, cached values, every formula.

One pass over the zip with a hardened XML parser; nothing is located by hard-coded
coordinates.  The file is never modified or re-saved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .outputs import os_error_zh
from .safety import MAX_FILE_BYTES, Rejected, SafeZip, open_safely
from .template import Template, known_templates
from .xlsx import BookInfo, XmlRefused, decode_xstring, local, parse_xml, range_cells, read_book, split_ref

_EPOCH = dt.datetime(1899, 12, 30)
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


class CellData:
    """One cell as read: value, formula text (with '='), style index, whether a value was stored."""

    __slots__ = ("value", "formula", "style", "has_value")

    def __init__(self, value: Any, formula: str | None, style: int, has_value: bool):
        self.value, self.formula, self.style, self.has_value = value, formula, style, has_value


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
    rejected: str | None = None  # reason, when the file is not a readable .xlsx

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the template by its (id, version): worker results stay small."""
        state = dict(self.__dict__)
        state["template"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.template_id and self.rejected is None:
            self.template = known_templates().get((self.template_id, self.template_version or ""))

    def drop_layout(self) -> None:
        """Forget what only verification needs (every formula, unlocked cells) once it is done."""
        self.formulas = {}
        self.unlocked = set()


# ---------------------------------------------------------------------------


def _custom_props(zf) -> dict[str, str]:
    try:
        data = zf.read("docProps/custom.xml")
    except KeyError:
        return {}
    out = {}
    for prop in parse_xml(data):
        name = prop.get("name")
        if name and len(prop):
            out[name] = (prop[0].text or "").strip()
    return out


class SharedStrings:
    """The shared-strings table, parsed item by item on demand.

    The reader looks up only the strings that input and named cells reference, so
    the (often large) table is indexed by a byte scan and single items are parsed
    with the same hardened parser, wrapped in the table's own root start tag.
    """

    _ITEM = re.compile(rb"<(?:\w+:)?si(?=[\s>/])")
    _ROOT = re.compile(rb"<(?:\w+:)?sst\b[^>]*>")
    _END = re.compile(rb"</(?:\w+:)?sst>\s*$")

    def __init__(self, data: bytes):
        if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
            raise XmlRefused("XML 含有 DTD 或实体声明")
        root = self._ROOT.search(data)
        self.data = data
        self.open = root.group(0) if root else b"<sst>"
        self.close = b"</" + self.open[1:].split(b" ")[0].split(b">")[0] + b">"
        self.starts = [m.start() for m in self._ITEM.finditer(data, root.end() if root else 0)]
        end = self._END.search(data)
        self.stop = end.start() if end else len(data)
        self.cache: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: int) -> str:
        if index in self.cache:
            return self.cache[index]
        if index < 0 or index >= len(self.starts):
            raise IndexError(index)
        stop = self.starts[index + 1] if index + 1 < len(self.starts) else self.stop
        root = parse_xml(self.open + self.data[self.starts[index]:stop] + self.close)
        si = root[0] if len(root) else root
        ns = si.tag[: si.tag.index("}") + 1] if si.tag.startswith("{") else ""
        tag_t, tag_rph = ns + "t", ns + "rPh"
        text = decode_xstring("".join(t.text or "" for t in si.iter(tag_t) if t.getparent().tag != tag_rph))
        self.cache[index] = text
        return text


def _shared_strings(zf, names: set[str]) -> SharedStrings | list[str]:
    part = next((n for n in names if n.lower() == "xl/sharedstrings.xml"), None)
    if part is None:
        return []
    return SharedStrings(zf.read(part))


def _unlocked_styles(zf, names: set[str]) -> set[int]:
    part = next((n for n in names if n.lower() == "xl/styles.xml"), None)
    if part is None:
        return set()
    root = parse_xml(zf.read(part))
    out: set[int] = set()
    for el in root:
        if local(el.tag) == "cellXfs":
            for i, xf in enumerate(el):
                for child in xf:
                    if local(child.tag) == "protection" and child.get("locked") in ("0", "false"):
                        out.add(i)
    return out


def _number(text: str) -> Any:
    if text.isdigit():
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


_SHEET_DATA_END = re.compile(rb"</(?:\w+:)?sheetData>")
_PROTECTION = re.compile(rb"<(?:\w+:)?sheetProtection\b[^>]*>")
_ROOT_CLOSE = re.compile(rb"<(\w+:)?worksheet\b")


def _head(data: bytes) -> tuple[bytes, bool]:
    """The sheet XML up to </sheetData>, closed; and whether the sheet is protected.

    What follows sheetData (merges, validations, conditional formats, page setup) is not
    needed by the reader, so it is never parsed.
    """
    end = _SHEET_DATA_END.search(data)
    tail = data[end.end():] if end else data
    prot = _PROTECTION.search(tail)
    protected = bool(prot and re.search(rb'\bsheet="(1|true)"', prot.group(0)))
    if not end:
        return data, protected
    root = _ROOT_CLOSE.search(data)
    prefix = (root.group(1) or b"") if root else b""
    return data[: end.end()] + b"</" + prefix + b"worksheet>", protected


def _parse_sheet(data: bytes, sst: SharedStrings | list[str], wanted: set[str] | None = None,
                 unlocked_styles: set[int] | None = None) -> tuple[dict[str, CellData], bool]:
    """Cells of one sheet: all of them, or (when `wanted` is given) only formula cells, the
    wanted refs and cells with an unlocked style.  Skipping plain labels keeps this fast."""
    head, protected = _head(data)
    root = parse_xml(head)
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    tag_c, tag_f, tag_v, tag_is, tag_t = ns + "c", ns + "f", ns + "v", ns + "is", ns + "t"
    cells: dict[str, CellData] = {}
    shared: dict[str, tuple[str, str]] = {}  # si -> (master ref, formula)
    pending: list[tuple[str, str]] = []
    sheet_data = root.find(ns + "sheetData")
    if sheet_data is None:
        return cells, protected
    unlocked_s = {str(i) for i in unlocked_styles or ()}
    for c in sheet_data.iter(tag_c):
        ref = c.get("r")
        if ref is None:
            continue
        style = c.get("s")
        n = len(c)
        if wanted is not None and ref not in wanted and style not in unlocked_s and (n == 0 or c[0].tag == tag_v):
            continue  # a plain label or blank: not needed
        t = c.get("t")
        v = f = is_ = None
        for i in range(n):
            child = c[i]
            if child.tag == tag_v:
                v = child
            elif child.tag == tag_f:
                f = child
            elif child.tag == tag_is:
                is_ = child
        vtext = v.text if v is not None else None
        formula = None
        if f is not None:
            ftext = f.text or ""
            if f.get("t") == "shared":
                si = f.get("si", "")
                if ftext:
                    shared[si] = (ref, ftext)
                else:
                    pending.append((ref, si))
            formula = "=" + ftext if ftext else None
        if t is None or t == "n":
            value: Any = _number(vtext) if vtext else None
            has_value = vtext is not None
        elif t == "s":
            try:
                value = sst[int(vtext or "")]
            except (ValueError, IndexError):
                value = None
            has_value = vtext is not None
        elif t == "inlineStr":
            value = decode_xstring("".join(x.text or "" for x in is_.iter(tag_t))) if is_ is not None else None
            has_value = is_ is not None
        elif t == "b":
            value, has_value = vtext == "1", vtext is not None
        else:  # str, e
            value, has_value = (decode_xstring(vtext) if vtext else vtext), vtext is not None
        cells[ref] = CellData(value, formula, int(style) if style else 0, has_value)
    if pending:
        from openpyxl.formula.translate import Translator

        for ref, si in pending:
            if si in shared and ref in cells:
                origin, text = shared[si]
                try:
                    cells[ref].formula = Translator("=" + text, origin=origin).translate_formula(ref)
                except Exception:  # noqa: BLE001 - an untranslatable shared formula is simply different
                    cells[ref].formula = "=" + text
    return cells, protected


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
    props = _custom_props(zf)
    _identify(ret, props, book)
    sst: SharedStrings | list[str] | None = None
    parsed: dict[str, dict[str, CellData]] = {}
    wanted: dict[str, set[str]] = {}
    for target in book.names.values():
        loc = split_ref(target)
        if loc:
            refs = [r for row in range_cells(loc[1], loc[2]) for r in row] if loc[2] else [loc[1]]
            wanted.setdefault(loc[0], set()).update(refs[:400])
    unlocked_styles: set[int] | None = None

    def sheet_cells(name: str) -> dict[str, CellData]:
        nonlocal sst, unlocked_styles
        if name not in parsed:
            info = book.sheet(name)
            if info is None or info.part not in safe.names:
                parsed[name] = {}
            else:
                if sst is None:
                    sst = _shared_strings(zf, safe.names)
                    unlocked_styles = _unlocked_styles(zf, safe.names)
                parsed[name], ret.protected[name] = _parse_sheet(zf.read(info.part), sst, wanted.get(name, set()),
                                                                 unlocked_styles)
        return parsed[name]

    def named(name: str) -> CellData | None:
        loc = split_ref(book.names.get(name, ""))
        if not loc or loc[2]:
            return None
        return sheet_cells(loc[0]).get(loc[1])

    ret.meta_sheet, ret.saved_at = _meta_sheet(book, named), _core_modified(zf, safe.names)
    if not ret.template_id:  # metadata sheet, when document properties were lost
        for key in ("template_id", "template_version", "template_hash", "return_id", "generated_at"):
            value = ret.meta_sheet.get(key)
            if value not in (None, ""):
                setattr(ret, key, value)
    ret.template = known_templates().get((ret.template_id or "", ret.template_version or ""))
    if ret.template is None:
        return  # not a return of a template this installation knows: nothing more to read

    from .formulas import named_formulas
    from .generate.layout import TABLES

    t = ret.template
    for key, spec in t.inputs.items():
        loc = split_ref(book.names.get(key, ""))
        if not loc:
            continue
        ret.input_cells[key] = f"{loc[0]}!{loc[1]}"
        cell = sheet_cells(loc[0]).get(loc[1])
        value = cell.value if cell else None
        if spec.type == "date" and isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                value = (_EPOCH + dt.timedelta(days=float(value))).date().isoformat()
            except (OverflowError, ValueError):
                pass
        if isinstance(value, str) and spec.type != "text" and value.strip() == "":
            value = None
        ret.inputs[key] = value
    for ind in t.indicators:
        cell = named(f"note_{ind.id}")
        if cell is not None and cell.value not in (None, ""):
            ret.notes[ind.id] = str(cell.value)
    for name in book.names:
        if name.startswith("explain_"):
            cell = named(name)
            if cell is not None and cell.value not in (None, ""):
                ret.explanations[name.removeprefix("explain_")] = str(cell.value)
    for table in TABLES:
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
    ret.unit = {k: ret.inputs.get(k) for k in ("unit_name", "budget_code", "parent_dept", "year")}
    for sheet_name, _ in ret.sheets:
        for ref, cell in sheet_cells(sheet_name).items():
            if cell.formula:
                ret.formulas[(sheet_name, ref)] = cell.formula
            if unlocked_styles and cell.style in unlocked_styles:
                ret.unlocked.add((sheet_name, ref))
