"""Zip/XML-level edits of generated returns, as a unit forging another's identity or a hurried clerk would.

The sheet password is public (README), and Excel, WPS and LibreOffice edit custom document
properties in their Properties dialog: an attacker can change cells, properties and the hidden
metadata sheet.  Only the MAC needs the bureau key.
"""

from __future__ import annotations

import re

from workbook.fill import fill_return

from .hostile import rezip


def set_props(data: bytes, **changes: str | None) -> bytes:
    """Set (or, with None, delete) jixiao_* custom document properties."""

    def edit(name: str, payload: bytes) -> bytes:
        if name != "docProps/custom.xml":
            return payload
        text = payload.decode("utf-8")
        for key, value in changes.items():
            pattern = re.compile(rf'<property [^>]*name="jixiao_{key}"[^>]*>.*?</property>', re.S)
            if value is None:
                text = pattern.sub("", text)
            else:
                text = pattern.sub(lambda m, v=value: re.sub(r"<vt:lpwstr>.*?</vt:lpwstr>",
                                                             f"<vt:lpwstr>{v}</vt:lpwstr>", m.group(0)), text)
        return text.encode("utf-8")

    return rezip(data, edit)


def set_meta_sheet(data: bytes, **changes: str | None) -> bytes:
    """Type into the hidden metadata sheet's jx_* cells."""
    return fill_return(data, {f"jx_{k}": v for k, v in changes.items()})


def relabel(data: bytes, *, unit_name: str | None = None, budget_code: str | None = None,
            year: int | None = None, return_id: str | None = None) -> bytes:
    """Make a return claim another identity everywhere a unit can reach: cells, properties, metadata sheet."""
    cells = {k: v for k, v in (("unit_name", unit_name), ("budget_code", budget_code), ("year", year)) if v is not None}
    meta = {**{k: str(v) for k, v in cells.items()}, **({"return_id": return_id} if return_id else {})}
    if cells:
        data = fill_return(data, cells)
    data = set_meta_sheet(data, **meta)
    return set_props(data, **meta)


def set_saved(data: bytes, when: str) -> bytes:
    """Set docProps/core.xml dcterms:modified (what a spreadsheet program writes when it saves)."""

    def edit(name: str, payload: bytes) -> bytes:
        if name != "docProps/core.xml":
            return payload
        return re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + when.encode() + rb"\g<2>", payload)

    return rezip(data, edit)


def drop_mac(data: bytes) -> bytes:
    """A workbook as issued before identity MACs: no jixiao_mac property, no jx_mac name or value."""
    data = set_props(data, mac=None)
    data = set_meta_sheet(data, mac=None)

    def edit(name: str, payload: bytes) -> bytes:
        if name != "xl/workbook.xml":
            return payload
        return re.sub(rb'<definedName name="jx_mac"[^>]*>[^<]*</definedName>', b"", payload)

    return rezip(data, edit)
