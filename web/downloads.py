"""Download responses: RFC 6266 / RFC 5987 file names, CSV with formula-safe text, temporary files."""

from __future__ import annotations

import csv
import io
import re
import shutil
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from workbook.consolidate import safe_text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


def clean_name(name: str, default: str = "download") -> str:
    """A file name with no path parts or control characters (for display and downloads)."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").split("/")[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:150] or default


def content_disposition(name: str) -> str:
    """attachment; an ASCII fallback filename= and the exact UTF-8 name in filename*= (RFC 6266, 5987)."""
    name = clean_name(name)
    ascii_name = name.encode("ascii", "ignore").decode().strip(" .") or "download"
    if "." in name and "." not in ascii_name:
        ascii_name += "." + name.rsplit(".", 1)[1].encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._()+\- ]", "_", ascii_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def bytes_download(data: bytes, name: str, media_type: str = "application/octet-stream") -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": content_disposition(name),
                                                          "X-Content-Type-Options": "nosniff"})


def file_download(path: Path, name: str, media_type: str, cleanup: Path | None = None) -> FileResponse:
    """Send a file; `cleanup` (a temporary folder) is removed once sent."""
    task = BackgroundTask(shutil.rmtree, cleanup, ignore_errors=True) if cleanup else None
    return FileResponse(path, media_type=media_type, background=task,
                        headers={"Content-Disposition": content_disposition(name), "X-Content-Type-Options": "nosniff"})


def csv_download(header: list[str], rows: Iterable[Iterable[Any]], name: str) -> Response:
    """UTF-8 CSV with BOM (Excel opens it in Chinese); text that a spreadsheet would run as a formula is quoted."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for row in rows:
        w.writerow(["" if v is None else safe_text(v) for v in row])
    return bytes_download(("\ufeff" + buf.getvalue()).encode("utf-8"), name, "text/csv; charset=utf-8")
