"""Sheet and workbook protection hashes as Excel and WPS check them.

Excel 2013+ and WPS verify a protection password with the hash of ISO/IEC 29500-1 §18.2.29:
SHA-512 over a random salt and the password's UTF-16LE bytes, iterated `spinCount` times with the
iteration number appended.  The legacy 16-bit verifier (ECMA-376 Part 4, 14.7.1) is computed by
Excel from the password in the system code page (GBK on Chinese Windows), so a Chinese password
hashed from its Unicode text would not unprotect there: it is written only for ASCII passwords,
beside the modern hash, for older readers.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import struct
import zipfile
from dataclasses import dataclass

SPIN_COUNT = 100_000


def sha512_password_hash(password: str, salt: bytes, spin_count: int = SPIN_COUNT) -> str:
    """The base64 `hashValue` of a password under `salt` (ISO/IEC 29500-1 §18.2.29)."""
    digest = hashlib.sha512(salt + password.encode("utf-16-le")).digest()
    for i in range(spin_count):
        digest = hashlib.sha512(digest + struct.pack("<I", i)).digest()
    return base64.b64encode(digest).decode("ascii")


def legacy_password_hash(password: str) -> str:
    """The 16-bit password verifier of sheet and workbook protection (ECMA-376 Part 4, 14.7.1)."""
    h = 0
    for ch in reversed(password):
        h = ((h >> 14) & 0x01) | ((h << 1) & 0x7FFF)
        h ^= ord(ch)
    h = ((h >> 14) & 0x01) | ((h << 1) & 0x7FFF)
    h ^= len(password)
    h ^= 0xCE4B
    return f"{h:X}"


@dataclass(frozen=True)
class ProtectionHash:
    """One password's hash attributes, computed once per batch and shared by every sheet."""

    hash_value: str
    salt_value: str
    legacy: str | None  # the 16-bit verifier, for an ASCII password only
    spin_count: int = SPIN_COUNT

    @classmethod
    def of(cls, password: str, salt: bytes | None = None) -> ProtectionHash:
        salt = salt if salt is not None else os.urandom(16)
        legacy = legacy_password_hash(password) if password.isascii() else None
        return cls(sha512_password_hash(password, salt), base64.b64encode(salt).decode("ascii"), legacy)

    def attributes(self, prefix: str = "") -> str:
        """The XML attributes; prefix "workbook" gives workbookAlgorithmName, workbookHashValue, …"""
        def name(attr: str) -> str:
            return prefix + attr[0].upper() + attr[1:] if prefix else attr

        out = (f'{name("algorithmName")}="SHA-512" {name("hashValue")}="{self.hash_value}" '
               f'{name("saltValue")}="{self.salt_value}" {name("spinCount")}="{self.spin_count}"')
        if self.legacy:
            out = f'{prefix + "Password" if prefix else "password"}="{self.legacy}" ' + out
        return out


_SHEET_PROTECTION = re.compile(rb"<sheetProtection\b[^>]*/>")
_PASSWORD_ATTR = re.compile(rb'\s(?:password|algorithmName|hashValue|saltValue|spinCount)="[^"]*"')


def rehash_sheet_protection(xml: bytes, protection: ProtectionHash) -> bytes:
    """Replace a <sheetProtection> element's password attributes with `protection`'s."""
    def fix(m: re.Match[bytes]) -> bytes:
        tag = _PASSWORD_ATTR.sub(b"", m.group(0))
        return tag.replace(b"<sheetProtection", b"<sheetProtection " + protection.attributes().encode(), 1)

    return _SHEET_PROTECTION.sub(fix, xml, count=1)


def rehash_workbook_sheets(data: bytes, protection: ProtectionHash) -> bytes:
    """Every worksheet of an xlsx (bytes) with its protection hashed by `protection`."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            payload = zin.read(info)
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                payload = rehash_sheet_protection(payload, protection)
            zout.writestr(info, payload)
    return out.getvalue()
