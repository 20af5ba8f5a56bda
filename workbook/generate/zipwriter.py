"""A minimal zip writer that accepts already-deflated members, so unchanged parts are compressed once per batch."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

_DOS_TIME, _DOS_DATE = 0, (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01 00:00, deterministic


@dataclass(frozen=True)
class Member:
    name: bytes
    crc: int
    size: int
    data: bytes  # raw deflate stream

    @classmethod
    def deflate(cls, name: str, payload: bytes, level: int = 6) -> Member:
        comp = zlib.compressobj(level, zlib.DEFLATED, -15)
        data = comp.compress(payload) + comp.flush()
        return cls(name.encode("utf-8"), zlib.crc32(payload), len(payload), data)


def write_zip(members: list[Member]) -> bytes:
    """Assemble a zip archive (deflate, no zip64: returns are far below 4 GB)."""
    out = bytearray()
    central = bytearray()
    for m in members:
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x0800, 8, _DOS_TIME, _DOS_DATE, m.crc, len(m.data),
                           m.size, len(m.name), 0)
        out += m.name
        out += m.data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x0800, 8, _DOS_TIME, _DOS_DATE, m.crc,
                               len(m.data), m.size, len(m.name), 0, 0, 0, 0, 0, offset)
        central += m.name
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), start, 0)
    return bytes(out)
