"""Files that arrive by upload (single returns or a zip of them) taken in through `collect`.

Each file's fate is reported: 新收 / 更新 / 重复 / 拒收 with the reason, or only checked
(dry run: nothing stored).  Uploaded names are data only: files are checked under
numbered temporary names and kept by content hash; originals are kept for download.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import review
from .batchread import check_many
from .collect import collect
from .originals import Originals
from .safety import MAX_FILE_BYTES
from .store import HELD, OUTCOME_ZH, REJECTED, Store, Stored
from .verify import Verification

CHECKED = "checked"
OUTCOME_LABEL = OUTCOME_ZH | {CHECKED: "仅检查"}
MAX_ZIP_MEMBERS = 2000
SKIPPED_PREFIXES = ("__MACOSX/", "~$", ".")


@dataclass
class Incoming:
    name: str  # as the sender named it (display only)
    data: bytes | None  # None when refused before checking
    refused: str | None = None
    mtime: float | None = None  # when the sender's copy was last modified (seconds), if known


def plausible_mtime(seconds: float | None) -> float | None:
    """A sender-reported modification time, if it is a real one (after 2000, not in the future)."""
    if seconds is None or not 946684800 <= seconds <= time.time() + 86400:
        return None
    return seconds


@dataclass
class Fate:
    name: str
    outcome: str  # new | updated | duplicate | rejected | checked
    reason: str = ""
    sha256: str = ""
    budget_code: str = ""
    unit_name: str = ""
    year: int | None = None
    total: float | None = None
    grade: str | None = None
    errors: int = 0
    warnings: int = 0

    @property
    def label(self) -> str:
        return OUTCOME_LABEL.get(self.outcome, self.outcome)


def member_name(zip_name: str, member: str) -> str:
    """How a file inside an uploaded zip is named on screen: zip/folder/file, without control
    characters or '..' (display only: it never becomes a path)."""
    parts = [re.sub(r"[\x00-\x1f\x7f]", "_", p) for p in member.replace("\\", "/").split("/")]
    return "/".join([zip_name] + [p for p in parts if p not in ("", ".", "..")])


def expand_zip(name: str, data: bytes, max_file: int = MAX_FILE_BYTES,
               max_members: int = MAX_ZIP_MEMBERS) -> list[Incoming]:
    """The files inside an uploaded .zip (folders and system files skipped); a broken zip is one refusal."""
    import io

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist() if not i.is_dir()
                 and not i.filename.split("/")[-1].startswith(SKIPPED_PREFIXES) and not i.filename.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return [Incoming(name, None, f"压缩包无法打开（{exc}）")]
    if len(infos) > max_members:
        return [Incoming(name, None, f"压缩包内文件过多（{len(infos)} 个，最多 {max_members} 个）")]
    out = []
    for info in infos:
        member = member_name(name, info.filename)
        if info.file_size > max_file:
            out.append(Incoming(member, None, f"文件过大（{info.file_size / 1048576:.1f} MB，每个文件最多 "
                                              f"{max_file / 1048576:.0f} MB）"))
            continue
        try:
            with zf.open(info) as fh:
                content = fh.read(max_file + 1)
        except (zipfile.BadZipFile, RuntimeError, ValueError, OSError, EOFError) as exc:
            out.append(Incoming(member, None, f"压缩包内文件无法解压（{exc}）"))
            continue
        if len(content) > max_file:
            out.append(Incoming(member, None, "文件过大（解压后超过上限）"))
            continue
        try:
            mtime = plausible_mtime(time.mktime(info.date_time + (0, 0, -1)))
        except (OverflowError, ValueError):
            mtime = None
        out.append(Incoming(member, content, mtime=mtime))
    return out


def _fate(name: str, v: Verification, outcome: str) -> Fate:
    unit = v.ret.unit or {}
    reason = ""
    if outcome == REJECTED or v.rejected:  # a rejected file sent again is still 拒收, with its reason
        outcome = REJECTED
        reason = v.ret.rejected or (v.findings[0].message if v.findings else "无法识别")
    rep = v.report
    year = unit.get("year")
    return Fate(name, outcome, reason, v.ret.sha256, str(unit.get("budget_code") or ""), str(unit.get("unit_name") or ""),
                int(year) if str(year or "").isdigit() else None, float(rep.total) if rep else None,
                rep.grade if rep else None, v.count("error"), v.count("warning"))


def take_in(files: list[Incoming], store: Store, originals: Originals, who: str, *, dry_run: bool = False,
            workers: int | None = None) -> list[Fate]:
    """Check (and unless dry_run, store) every file exactly as `collect` does; one Fate per file, in order."""
    fates: list[Fate | None] = [None] * len(files)
    with tempfile.TemporaryDirectory(prefix="jixiao-upload-") as tmp:
        paths: list[Path] = []
        index: dict[str, int] = {}
        for i, f in enumerate(files):
            if f.data is None:
                fates[i] = Fate(f.name, REJECTED, f.refused or "拒收")
                continue
            p = Path(tmp) / f"{i:05d}.upload"
            p.write_bytes(f.data)
            if f.mtime:  # the sender's modification time, as a file collected from a folder would have
                os.utime(p, (f.mtime, f.mtime))
            paths.append(p)
            index[str(p)] = i
        if dry_run:
            for v in check_many(paths, workers, isolate=True):
                i = index[v.ret.file]
                fates[i] = _fate(files[i].name, v, REJECTED if v.rejected else CHECKED)
        elif paths:
            def on_stored(v: Verification, stored: Stored) -> None:
                i = index[v.ret.file]
                fates[i] = _fate(files[i].name, v, stored.outcome)
                if stored.outcome == HELD:
                    fates[i].reason = stored.note or ""

            collect(paths, store, workers, on_stored=on_stored, isolate=True,
                    names={str(p): files[index[str(p)]].name for p in paths})
        entries = []
        for i, f in enumerate(files):
            fate = fates[i]
            assert fate is not None
            if not dry_run and f.data is not None:
                originals.put(f.data)
            sub = store.db.execute("SELECT id FROM submissions WHERE sha256 = ?", (fate.sha256,)).fetchone() \
                if fate.sha256 else None
            entries.append({"action": "dry_run" if dry_run else "upload", "who": who, "year": fate.year,
                            "budget_code": fate.budget_code or None, "submission_id": sub["id"] if sub else None,
                            "sha256": fate.sha256 or None,
                            "detail": f"{fate.label}：{f.name}" + (f"（{fate.reason}）" if fate.reason else "")})
        if entries:
            review.log_many(store, entries)
    return [f for f in fates if f is not None]
