"""Builders of hostile and tampered files for the reader tests (and the demo)."""

from __future__ import annotations

import io
import re
import zipfile


def rezip(data: bytes, edit=None, add: dict[str, bytes] | None = None, drop: set[str] = frozenset()) -> bytes:
    """Copy a zip, editing members with edit(name, bytes) -> bytes and adding members."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            payload = zin.read(info.filename)
            if edit:
                payload = edit(info.filename, payload)
            zout.writestr(info.filename, payload)
        for name, payload in (add or {}).items():
            zout.writestr(name, payload)
    return out.getvalue()


def ole2() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def crc_broken(data: bytes) -> bytes:
    """Flip a byte inside a stored member's data so its CRC no longer matches."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
    raw = bytearray(out.getvalue())
    i = raw.find(b"<sheetData>")
    raw[i + 3] ^= 0x20
    return bytes(raw)


def with_macro(data: bytes) -> bytes:
    return rezip(data, add={"xl/vbaProject.bin": b"\x00" * 512})


def with_external_link(data: bytes) -> bytes:
    return rezip(data, add={"xl/externalLinks/externalLink1.xml": b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'})


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\x00" * (40 * 1024 * 1024))
    return out.getvalue()


def many_entries() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(2500):
            z.writestr(f"x/{i}.xml", "<a/>")
    return out.getvalue()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="&lol3;" sheetId="1"/></sheets></workbook>"""


def entity_attack(data: bytes) -> bytes:
    return rezip(data, edit=lambda n, p: BILLION_LAUGHS if n == "xl/workbook.xml" else p)


def strip_cached_values(data: bytes) -> bytes:
    """As if the workbook had never been opened in a spreadsheet program: formulas without results."""
    def edit(name: str, payload: bytes) -> bytes:
        if not name.startswith("xl/worksheets/"):
            return payload
        xml = payload.decode("utf-8")
        xml = re.sub(r'(<c r="[A-Z]+\d+"[^>]*?) t="str"', r"\1", xml)
        xml = re.sub(r"(</f>)<v>[^<]*</v>", r"\1", xml)
        return xml.encode("utf-8")

    return rezip(data, edit=edit)


def add_sheet(data: bytes, name: str = "我的计算") -> bytes:
    """A sheet added by a unit (workbook.xml, rels, content types and the part)."""
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><sheetData/></worksheet>')

    def edit(n: str, p: bytes) -> bytes:
        if n == "xl/workbook.xml":
            return p.replace(b"</sheets>", f'<sheet name="{name}" sheetId="99" r:id="rId99"/></sheets>'.encode())
        if n == "xl/_rels/workbook.xml.rels":
            return p.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                             b'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet99.xml"/>'
                             b"</Relationships>")
        if n == "[Content_Types].xml":
            return p.replace(b"</Types>", b'<Override PartName="/xl/worksheets/sheet99.xml" ContentType="application/'
                             b'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        return p

    return rezip(data, edit=edit, add={"xl/worksheets/sheet99.xml": sheet})
