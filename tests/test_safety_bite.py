"""The gatekeeper (workbook/safety.py) refuses each hostile shape with its own Chinese reason, exactly at its limit.

Every expectation is written by hand from the rule (limits, message texts); the limits are lowered with
monkeypatch so a boundary file stays small.  These tests kill the mutants `mutmut` finds in safety.py.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

import workbook.safety as safety
from workbook.safety import Rejected, open_safely

CT = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
      b'content-types"><Default Extension="xml" ContentType="application/vnd.openxmlformats-officedocument.'
      b'spreadsheetml.sheet.main+xml"/></Types>')
SAVE_AS = "请用 Excel 或 WPS 打开后“另存为” .xlsx 工作簿，再重新报送"


def make_zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, payload in entries.items():
            z.writestr(name, payload)
    return out.getvalue()


def patch_central(data: bytes, name: str, *, flags: int | None = None, compress_size: int | None = None) -> bytes:
    """Overwrite fields of `name`'s central-directory record (and its local header's flags)."""
    raw = bytearray(data)
    encoded = name.encode()
    i = raw.find(b"PK\x01\x02")
    while i >= 0:
        n = struct.unpack_from("<H", raw, i + 28)[0]
        if bytes(raw[i + 46:i + 46 + n]) == encoded:
            break
        i = raw.find(b"PK\x01\x02", i + 4)
    assert i >= 0, name
    if flags is not None:
        struct.pack_into("<H", raw, i + 8, flags)
        local = struct.unpack_from("<I", raw, i + 42)[0]
        struct.pack_into("<H", raw, local + 6, flags)
    if compress_size is not None:
        struct.pack_into("<I", raw, i + 20, compress_size)
    return bytes(raw)


def reason(data: bytes) -> str:
    """The Chinese reason a file is refused, or "" when the gatekeeper lets it through."""
    try:
        open_safely("报表.xlsx", data)
    except Rejected as exc:
        assert str(exc) == exc.reason  # the exception's text is the reason itself
        return exc.reason
    return ""


def test_rejected_carries_its_reason_as_text():
    exc = Rejected("原因")
    assert exc.reason == "原因" and str(exc) == "原因" and exc.args == ("原因",)


def test_empty_and_one_byte_files():
    assert reason(b"") == "空文件（0 字节）"
    assert reason(b"x") == ("不是 .xlsx 文件（文件内容不是 zip 格式，可能是改了扩展名的文本、图片或 .xls 文件）")


def test_pk_without_a_local_header_is_an_incomplete_zip():
    assert reason(b"PK\x07\x08" + b"\x00" * 30) == "zip 结构不完整（可能是分卷或损坏的压缩包）"
    assert reason(b"pk\x03\x04" + b"\x00" * 30).startswith("不是 .xlsx 文件")


def test_zip_without_central_directory():
    assert reason(b"PK\x03\x04" + b"\x00" * 60) == "zip 文件损坏或被截断（找不到 zip 目录），可能是没有传完的文件"


def test_ole2_files_get_advice_by_kind():
    magic = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    assert reason(magic + b"\x00" * 600) == "这是旧版 .xls 或 WPS .et 格式的表格，不是下发的 .xlsx 工作簿。" + SAVE_AS
    encrypted = magic + b"\x00" * 64 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 64
    assert reason(encrypted) == "文件设置了打开密码（已加密），无法核验。请取消密码后另存为 .xlsx，再重新报送"
    # the magic must be the whole first 8 bytes: a 9th byte does not matter, a 7-byte prefix is not OLE2
    assert reason(magic + b"\xff" * 600).startswith("这是旧版 .xls")
    assert reason(magic[:7] + b"\x00" * 600).startswith("不是 .xlsx 文件")


def test_file_size_limit_at_the_boundary(monkeypatch, tmp_path):
    monkeypatch.setattr(safety, "MAX_FILE_BYTES", 3 * 1048576)
    at_limit = b"PK\x03\x04" + b"\x00" * (3 * 1048576 - 4)
    assert reason(at_limit).startswith("zip 文件损坏或被截断")  # exactly the limit: not too big
    over = at_limit + b"\x00" * 786432  # 3.75 MiB, shown rounded to one decimal
    assert reason(over) == "文件过大（3.8 MB），一份自评表应远小于 1 MB"
    big = tmp_path / "big.xlsx"
    big.write_bytes(over)
    with pytest.raises(Rejected) as exc:
        open_safely(big)
    assert exc.value.reason == "文件过大（3.8 MB），一份自评表应远小于 1 MB"
    ok = tmp_path / "ok.xlsx"
    ok.write_bytes(at_limit)
    with pytest.raises(Rejected) as exc:
        open_safely(str(ok))  # read from disk, at the limit: reaches the zip check
    assert exc.value.reason.startswith("zip 文件损坏或被截断")


def test_unreadable_path_is_explained_in_chinese(tmp_path):
    with pytest.raises(Rejected) as exc:
        open_safely(tmp_path / "没有这个文件.xlsx")
    assert exc.value.reason == "无法读取文件：文件或文件夹不存在"
    with pytest.raises(Rejected) as exc:
        open_safely(tmp_path)  # a folder: stat works, reading does not
    assert exc.value.reason.startswith("无法读取文件：") and "Errno" not in exc.value.reason


def test_entry_count_limit(monkeypatch):
    monkeypatch.setattr(safety, "MAX_ENTRIES", 3)
    three = {"[Content_Types].xml": CT, "a.xml": b"<a/>", "b.xml": b"<b/>"}
    assert "条目过多" not in reason(make_zip(three))
    assert reason(make_zip({**three, "c.xml": b"<c/>"})) == "zip 中条目过多（4 个），疑似压缩炸弹"


def test_duplicate_names_exact_by_case_and_by_separator():
    msg = "zip 中有重名条目 {}（同名或仅大小写、分隔符不同），文件可以有两种读法，不予接受"
    assert reason(make_zip({"[Content_Types].xml": CT, "xl/a.xml": b"1", "XL/A.xml": b"2"})) == msg.format("XL/A.xml")
    assert reason(make_zip({"[Content_Types].xml": CT, "xl/a.xml": b"1", "xl\\a.xml": b"2"})) == msg.format("xl\\a.xml")
    with pytest.warns(UserWarning):
        same = _twice("xl/a.xml")
    assert reason(same) == msg.format("xl/a.xml")
    assert "重名" not in reason(make_zip({"[Content_Types].xml": CT, "xl/a.xml": b"1", "xl/b.xml": b"2"}))


def _twice(name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr(name, b"1")
        z.writestr(name, b"2")
    return out.getvalue()


def test_encrypted_entry_flag_is_bit_zero():
    data = make_zip({"[Content_Types].xml": CT, "xl/a.xml": b"<a/>"})
    assert reason(patch_central(data, "xl/a.xml", flags=0x1)) == "zip 条目 xl/a.xml 被加密"
    assert "加密" not in reason(patch_central(data, "xl/a.xml", flags=0x2))  # bit 1: a deflate option, harmless


def test_unsupported_compression():
    data = make_zip({"[Content_Types].xml": CT, "xl/a.xml": b"<a/>" * 10}, zipfile.ZIP_BZIP2)
    assert reason(data) == "zip 条目 [Content_Types].xml 使用了不支持的压缩方式 12"


def test_entry_size_limit(monkeypatch):
    monkeypatch.setattr(safety, "MAX_ENTRY_INFLATED", 3 * 1048576)
    monkeypatch.setattr(safety, "MAX_RATIO", 10**9)
    at = make_zip({"[Content_Types].xml": CT, "xl/a.xml": b"\x00" * (3 * 1048576)})
    assert "解压后" not in reason(at)
    over = make_zip({"[Content_Types].xml": CT, "xl/a.xml": b"\x00" * (3 * 1048576 + 524288)})
    assert reason(over) == "zip 条目 xl/a.xml 解压后 4 MB，疑似压缩炸弹"  # 3.5 MB, rounded half to even


def test_compression_ratio_limit_applies_only_above_one_mebibyte():
    one_mib = make_zip({"[Content_Types].xml": CT, "xl/a.xml": b"\x00" * 1048576})
    assert "压缩比" not in reason(one_mib)  # ~1000:1, but only 1 MiB: allowed
    over = make_zip({"[Content_Types].xml": CT, "xl/a.xml": b"\x00" * 1048577})
    info = zipfile.ZipFile(io.BytesIO(over)).getinfo("xl/a.xml")
    assert reason(over) == f"zip 条目 xl/a.xml 压缩比 {1048577 // info.compress_size}:1，疑似压缩炸弹"


def test_compression_ratio_boundary_and_tiny_compressed_size():
    size = 2_097_200  # 200 × 10 486
    data = make_zip({"[Content_Types].xml": CT, "xl/a.xml": b"\x00" * size})
    assert "压缩比" not in reason(patch_central(data, "xl/a.xml", compress_size=10_486))  # exactly 200:1 is allowed
    assert reason(patch_central(data, "xl/a.xml", compress_size=10_485)) == \
        "zip 条目 xl/a.xml 压缩比 200:1，疑似压缩炸弹"  # 200.02:1, shown in whole numbers
    assert reason(patch_central(data, "xl/a.xml", compress_size=1)) == "zip 条目 xl/a.xml 压缩比 2097200:1，疑似压缩炸弹"
    assert reason(patch_central(data, "xl/a.xml", compress_size=0)) == "zip 条目 xl/a.xml 压缩比 2097200:1，疑似压缩炸弹"


def test_total_inflated_limit_sums_every_entry(monkeypatch):
    monkeypatch.setattr(safety, "MAX_TOTAL_INFLATED", 4 * 1048576)
    half = b"\x00" * (2 * 1048576)
    stored = zipfile.ZIP_STORED
    at = make_zip({"xl/a.xml": half, "xl/b.xml": half[: 2 * 1048576 - len(CT)], "[Content_Types].xml": CT}, stored)
    assert "解压后共" not in reason(at)  # exactly the limit
    over = make_zip({"xl/a.xml": half, "xl/b.xml": half, "[Content_Types].xml": CT}, stored)
    assert reason(over) == "zip 解压后共 4 MB，疑似压缩炸弹"
    rest = b"\x00" * (1048576 + 524288 - len(CT))  # 5.5 MiB in all, shown rounded to whole MB
    three = make_zip({"xl/a.xml": half, "xl/b.xml": half, "xl/c.xml": rest, "[Content_Types].xml": CT}, stored)
    assert reason(three) == "zip 解压后共 6 MB，疑似压缩炸弹"


def test_macros_and_external_links():
    assert reason(make_zip({"[Content_Types].xml": CT, "xl/vbaProject.bin": b"\x00"})) == \
        "文件含有宏（vbaProject.bin），不接受启用宏的工作簿（.xlsm）。请另存为 .xlsx 后重新报送"
    assert reason(make_zip({"[Content_Types].xml": CT, "xl/externalLinks/externalLink1.xml": b"<a/>"})) == \
        "文件含有外部链接（引用其他工作簿），不予接受。请删除外部链接后重新报送"
    declared = "文件声明为启用宏的工作簿（.xlsm），不予接受"
    assert reason(make_zip({"[Content_Types].xml": CT + b"<!-- macroEnabled -->"})) == declared
    assert reason(make_zip({"[Content_Types].xml": CT + b"<!-- vbaProject -->"})) == declared


def test_other_spreadsheet_formats_get_advice():
    ods = make_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<a/>"})
    assert reason(ods) == "这是 OpenDocument 表格（.ods），不是下发的 .xlsx 工作簿。" + SAVE_AS
    xlsb = make_zip({"[Content_Types].xml": CT, "xl/workbook.bin": b"\x00"})
    assert reason(xlsb) == "这是 Excel 二进制工作簿（.xlsb），不是下发的 .xlsx 工作簿。" + SAVE_AS
    # only the first 100 bytes of the mimetype are read: a marker ending at byte 101 is not seen
    padded = make_zip({"mimetype": b"x" * 77 + b"opendocument.spreadsheet", "content.xml": b"<a/>"})
    assert reason(padded) == "缺少 [Content_Types].xml，不是有效的 Office Open XML 文件"
    odt = make_zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<a/>"})
    assert reason(odt) == "缺少 [Content_Types].xml，不是有效的 Office Open XML 文件"


def test_not_a_spreadsheet_package():
    docx = make_zip({"[Content_Types].xml": CT.replace(b"spreadsheetml", b"wordprocessingml")})
    assert reason(docx) == "不是 Excel 工作簿（可能是 Word、PowerPoint 或其他 Office 文件）"


def test_names_fold_by_ascii_case_only():
    # OPC part names compare case-insensitively in ASCII: "straße" and "STRASSE" are two names, not one
    assert "重名" not in reason(make_zip({"[Content_Types].xml": CT, "xl/straße.xml": b"1", "xl/STRASSE.xml": b"2"}))
