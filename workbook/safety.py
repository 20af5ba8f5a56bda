"""Gatekeeping before any parser touches a file: type, zip integrity, bombs, macros, external links.

Every check reads only the zip's central directory and declared sizes (and CRCs by
streaming), so a hostile file is refused before anything is inflated into memory.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from .outputs import os_error_zh

MAX_FILE_BYTES = 20 * 1024 * 1024  # a real return is ~45 KB
MAX_TOTAL_INFLATED = 64 * 1024 * 1024
MAX_ENTRY_INFLATED = 32 * 1024 * 1024
MAX_RATIO = 200  # inflated / compressed, for entries above 1 MiB
MAX_ENTRIES = 2000

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


SAVE_AS_XLSX = "请用 Excel 或 WPS 打开后“另存为” .xlsx 工作簿，再重新报送"
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")  # the stream of a password-protected OOXML file


def ole2_advice(data: bytes) -> str:
    """Why an OLE2 file is refused, and what the unit should do."""
    if ENCRYPTED_MARK in data:
        return "文件设置了打开密码（已加密），无法核验。请取消密码后另存为 .xlsx，再重新报送"
    return "这是旧版 .xls 或 WPS .et 格式的表格，不是下发的 .xlsx 工作簿。" + SAVE_AS_XLSX


def zip_format_advice(zf: zipfile.ZipFile, lower_names: set[str]) -> str | None:
    """A zip that is a spreadsheet of another format (.ods, .xlsb): the advice, else None."""
    if "mimetype" in lower_names:
        try:
            mime = zf.read("mimetype")[:100]
        except Exception:  # noqa: BLE001
            mime = b""
        if b"opendocument.spreadsheet" in mime:
            return "这是 OpenDocument 表格（.ods），不是下发的 .xlsx 工作簿。" + SAVE_AS_XLSX
    if "xl/workbook.bin" in lower_names:
        return "这是 Excel 二进制工作簿（.xlsb），不是下发的 .xlsx 工作簿。" + SAVE_AS_XLSX
    return None


class Rejected(Exception):
    """A file that is not a readable .xlsx; `reason` is the Chinese explanation."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class Parts:
    """The decompressed parts of a checked zip, read once; `read` mirrors ZipFile.read."""

    def __init__(self, parts: dict[str, bytes]):
        self.parts = parts

    def read(self, name: str) -> bytes:
        """A part by name; OPC part names are case-insensitive (collisions were refused)."""
        try:
            return self.parts[name]
        except KeyError:
            folded = {n.lower(): n for n in self.parts}.get(name.lower())
            if folded is None:
                raise
            return self.parts[folded]

    def namelist(self) -> list[str]:
        return list(self.parts)


@dataclass
class SafeZip:
    zf: Parts
    names: set[str]


def open_safely(path: str | Path, data: bytes | None = None) -> SafeZip:
    """Open a file as a zip after the hostile-file checks; raise Rejected with a Chinese reason."""
    p = Path(path)
    if data is None:
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise Rejected(f"无法读取文件：{os_error_zh(exc)}") from exc
        if size > MAX_FILE_BYTES:
            raise Rejected(f"文件过大（{size / 1048576:.1f} MB），一份自评表应远小于 1 MB")
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise Rejected(f"无法读取文件：{os_error_zh(exc)}") from exc
    if len(data) == 0:
        raise Rejected("空文件（0 字节）")
    if len(data) > MAX_FILE_BYTES:
        raise Rejected(f"文件过大（{len(data) / 1048576:.1f} MB），一份自评表应远小于 1 MB")
    head = data[:8]
    if head == OLE2_MAGIC:
        raise Rejected(ole2_advice(data))
    if not head.startswith(ZIP_MAGIC):
        if head.startswith(b"PK"):
            raise Rejected("zip 结构不完整（可能是分卷或损坏的压缩包）")
        raise Rejected("不是 .xlsx 文件（文件内容不是 zip 格式，可能是改了扩展名的文本、图片或 .xls 文件）")
    import io

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise Rejected("zip 文件损坏或被截断（找不到 zip 目录），可能是没有传完的文件") from exc
    except Exception as exc:  # noqa: BLE001 - zipfile raises odd errors on hostile input
        raise Rejected(f"zip 文件无法打开（{type(exc).__name__}）") from exc
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise Rejected(f"zip 中条目过多（{len(infos)} 个），疑似压缩炸弹")
    total = 0
    names = set()
    folded: set[str] = set()
    for info in infos:
        key = info.filename.replace("\\", "/").lower()
        if info.filename in names or key in folded:
            raise Rejected(f"zip 中有重名条目 {info.filename}（同名或仅大小写、分隔符不同），文件可以有两种读法，不予接受")
        names.add(info.filename)
        folded.add(key)
        if info.flag_bits & 0x1:
            raise Rejected(f"zip 条目 {info.filename} 被加密")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Rejected(f"zip 条目 {info.filename} 使用了不支持的压缩方式 {info.compress_type}")
        if info.file_size > MAX_ENTRY_INFLATED:
            raise Rejected(f"zip 条目 {info.filename} 解压后 {info.file_size / 1048576:.0f} MB，疑似压缩炸弹")
        # mutmut: max(1, …) → max(2, …) cannot matter here: above 1 MiB, 200 × 1 and 200 × 2 are both exceeded
        if info.file_size > 1048576 and info.file_size > MAX_RATIO * max(1, info.compress_size):  # pragma: no mutate
            raise Rejected(f"zip 条目 {info.filename} 压缩比 {info.file_size // max(1, info.compress_size)}:1，疑似压缩炸弹")
        total += info.file_size
    if total > MAX_TOTAL_INFLATED:
        raise Rejected(f"zip 解压后共 {total / 1048576:.0f} MB，疑似压缩炸弹")
    lower = {n.lower() for n in names}
    if any(n.endswith("vbaproject.bin") for n in lower):
        raise Rejected("文件含有宏（vbaProject.bin），不接受启用宏的工作簿（.xlsm）。请另存为 .xlsx 后重新报送")
    if any(n.startswith("xl/externallinks/") for n in lower):
        raise Rejected("文件含有外部链接（引用其他工作簿），不予接受。请删除外部链接后重新报送")
    advice = zip_format_advice(zf, lower)
    if advice:
        raise Rejected(advice)
    if "[content_types].xml" not in lower:
        raise Rejected("缺少 [Content_Types].xml，不是有效的 Office Open XML 文件")
    try:
        ctypes = zf.read(next(n for n in names if n.lower() == "[content_types].xml"))
    except Exception as exc:  # noqa: BLE001
        raise Rejected(f"zip 文件损坏（{type(exc).__name__}: {exc}）") from exc
    if b"macroEnabled" in ctypes or b"vbaProject" in ctypes:
        raise Rejected("文件声明为启用宏的工作簿（.xlsm），不予接受")
    if b"spreadsheetml" not in ctypes.lower():
        raise Rejected("不是 Excel 工作簿（可能是 Word、PowerPoint 或其他 Office 文件）")
    parts: dict[str, bytes] = {}
    for info in infos:  # every part inflated once, within the declared sizes checked above
        try:
            parts[info.filename] = zf.read(info)
        except zipfile.BadZipFile as exc:
            raise Rejected(f"zip 条目 {info.filename} 校验失败（数据与校验码不符或结构损坏），文件已损坏") from exc
        except Exception as exc:  # noqa: BLE001 - zlib.error, EOFError … on truncated data
            raise Rejected(f"zip 条目 {info.filename} 损坏或被截断（{type(exc).__name__}）") from exc
    from .package import check_package

    check_package(parts)
    return SafeZip(Parts(parts), names)
