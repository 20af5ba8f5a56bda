"""Which files in a folder of returns are worth checking.

A returns folder also holds the report as PDF or Word, scans, mail bodies, `Thumbs.db`…
Those are skipped (and listed once) rather than rejected as "改了扩展名".  A file is
skipped only when both its extension says it is something else and its first bytes do
not look like a spreadsheet (zip or OLE2): a return renamed to .pdf is still checked.
Spreadsheet files of the wrong format (.xls, .et, .ods, .xlsb, encrypted) are checked and
rejected with advice by the reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xls", ".et", ".ett", ".ods", ".xlsb", ".csv"}
SYSTEM_FILES = {"thumbs.db", "desktop.ini", ".ds_store", "ehthumbs.db"}
SPREADSHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
OTHER_OLE2 = {".doc", ".dot", ".ppt", ".pps", ".msg", ".wps", ".dps", ".vsd", ".pub", ".msi"}
OTHER_OFFICE_ZIPS = {".docx", ".docm", ".pptx", ".pptm", ".odt", ".odp", ".ofd", ".zip", ".jar", ".apk", ".epub"}


@dataclass
class Scan:
    """Files to check, files skipped as clearly not spreadsheets, and paths that do not exist."""

    files: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(8)
    except OSError:
        return b""


def _zip_has_workbook(path: Path) -> bool:
    """A zip with a .docx-like extension that is really a workbook (only the central directory is read)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.startswith("xl/") for n in zf.namelist())
    except Exception:  # noqa: BLE001 - an unreadable zip with a non-spreadsheet name is not a return
        return False


def is_candidate(path: Path) -> bool:
    """True when a file found in a folder should be checked as a return."""
    name = path.name.lower()
    if name.startswith("~$") or name in SYSTEM_FILES or name.startswith("._"):
        return False  # Office lock files, Windows/macOS folder metadata
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        return True
    head = _head(path)
    if not head.startswith(SPREADSHEET_MAGIC):
        return False  # PDF, text, images, … whatever the extension
    if not head.startswith(b"PK"):
        return path.suffix.lower() not in OTHER_OLE2
    if path.suffix.lower() in OTHER_OFFICE_ZIPS:
        return _zip_has_workbook(path)
    return True
