"""Open Packaging Conventions checks: what a part *is* is decided by its content type and by the
type of the relationships that point at it, never by its path.

External links, DDE links, macros (VBA, Excel 4 macro sheets), OLE objects, ActiveX controls and
data connections are refused wherever the part lives; duplicate relationship ids make a package
readable two ways and are refused too.
"""

from __future__ import annotations

import posixpath
from functools import lru_cache

from .safety import Rejected
from .xlsx import local, parse_xml

# relationship type (last path segment, lower case) -> why the file is refused
_REL_TYPES = {
    "externallink": "外部链接（引用其他工作簿或 DDE）",
    "externallinkpath": "外部链接（引用其他工作簿）",
    "xlexternallinkpath": "外部链接（引用其他工作簿）",
    "xlpathmissing": "外部链接（引用其他工作簿）",
    "vbaproject": "宏（VBA）",
    "xlmacrosheet": "宏表（Excel 4 宏）",
    "xlintlmacrosheet": "宏表（Excel 4 宏）",
    "macrosheet": "宏表（Excel 4 宏）",
    "dialogsheet": "对话框工作表（宏）",
    "oleobject": "嵌入或链接的 OLE 对象",
    "package": "嵌入的文件（OLE 包）",
    "activexcontrol": "ActiveX 控件",
    "activexcontrolbinary": "ActiveX 控件",
    "control": "表单控件",
    "connections": "外部数据连接",
    "querytable": "外部数据查询",
    "attachedtemplate": "外部模板链接",
}
# content type fragments (lower case) -> why the file is refused
_CONTENT_TYPES = {
    "externallink": "外部链接（引用其他工作簿或 DDE）",
    "vbaproject": "宏（VBA）",
    "macroenabled": "启用宏的工作簿（.xlsm）",
    "macrosheet": "宏表（Excel 4 宏）",
    "dialogsheet": "对话框工作表（宏）",
    "oleobject": "嵌入或链接的 OLE 对象",
    "activex": "ActiveX 控件",
    "connections": "外部数据连接",
    "querytable": "外部数据查询",
    "msword": "嵌入的文件（OLE 包）",
    "vnd.ms-excel.controlproperties": "表单控件",
}


def _refuse(what: str, part: str) -> Rejected:
    return Rejected(f"文件含有{what}（部件 {part}），不予接受。请删除后另存为 .xlsx 重新报送")


def content_types(parts: dict[str, bytes]) -> tuple[dict[str, str], dict[str, str]]:
    """([Content_Types].xml) Default extension -> type, Override part name (lower case) -> type."""
    name = next(n for n in parts if n.lower() == "[content_types].xml")
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for el in parse_xml(parts[name]):
        tag = local(el.tag) if isinstance(el.tag, str) else ""
        ctype = (el.get("ContentType") or "").strip().lower()
        if tag == "Default":
            ext = (el.get("Extension") or "").lower()
            if ext in defaults and defaults[ext] != ctype:
                raise Rejected(f"[Content_Types].xml 对扩展名 {ext} 有两个不同的类型，文件可以有两种读法")
            defaults[ext] = ctype
        elif tag == "Override":
            part = (el.get("PartName") or "").lstrip("/").lower()
            if part in overrides and overrides[part] != ctype:
                raise Rejected(f"[Content_Types].xml 对部件 {part} 有两个不同的类型，文件可以有两种读法")
            overrides[part] = ctype
    return defaults, overrides


def check_package(parts: dict[str, bytes]) -> None:
    """Raise Rejected for active or external content found by content type or relationship type."""
    ct = next(n for n in parts if n.lower() == "[content_types].xml")
    rels = tuple((n, parts[n]) for n in parts if n.lower().endswith(".rels"))
    small = len(parts[ct]) + sum(len(d) for _, d in rels) <= 1 << 20
    (_check if small else _check.__wrapped__)(tuple(parts), ct, parts[ct], rels)  # a batch's packages: checked once


@lru_cache(maxsize=16)
def _check(names: tuple[str, ...], ct: str, ct_data: bytes, rels: tuple[tuple[str, bytes], ...]) -> None:
    parts = {ct: ct_data, **dict(rels)}
    defaults, overrides = content_types(parts)
    checked: set[str] = set()
    for name in names:
        if name.endswith("/"):
            continue
        lower = name.lower()
        ctype = overrides.get(lower) or defaults.get(posixpath.splitext(lower)[1].lstrip("."), "")
        if ctype not in checked:
            checked.add(ctype)
            for fragment, what in _CONTENT_TYPES.items():
                if fragment in ctype:
                    raise _refuse(what, name)
        if lower.endswith(".rels"):
            _check_rels(name, parts[name])


def _check_rels(name: str, data: bytes) -> None:
    ids: set[str] = set()
    for el in parse_xml(data):
        if not isinstance(el.tag, str) or local(el.tag) != "Relationship":
            continue
        rid = el.get("Id", "")
        if rid in ids:
            raise Rejected(f"{name} 中关系编号 {rid} 重复，文件可以有两种读法，不予接受")
        ids.add(rid)
        kind = el.get("Type", "").rstrip("/").rsplit("/", 1)[-1].lower()
        what = _REL_TYPES.get(kind)
        if what:
            raise _refuse(what, f"{name} → {el.get('Target', '')}")
