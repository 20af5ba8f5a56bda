"""Writing outputs safely: never overwrite a file without `force`, never leave a half-written file.

Every writer goes through `Outputs`: each target is checked first (not a folder, the right
extension, not an existing file unless `force`, its folder writable), the content is
written to a temporary file in the same folder, and only when every output of the command
is complete are they renamed into place.  A full disk, an error or Ctrl-C leaves the old
files as they were and no temporary file behind.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

TMP_PREFIX = ".jixiao-tmp-"


class OutputError(Exception):
    """An output that cannot be written; the message is Chinese and names the path."""

    def __init__(self, path: str | Path, message: str):
        self.path = Path(path)
        super().__init__(message)


_ERRNO_ZH = {
    errno.EACCES: "没有写入权限",
    errno.EPERM: "没有写入权限",
    errno.EROFS: "所在位置是只读的",
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "超出磁盘配额",
    errno.EISDIR: "这是一个文件夹",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.ENOENT: "文件或文件夹不存在",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EEXIST: "已存在",
}


def os_error_zh(exc: OSError) -> str:
    """A Chinese explanation of an OS error (never the raw English text alone)."""
    if isinstance(exc, PermissionError):
        return "没有权限"
    zh = _ERRNO_ZH.get(exc.errno or 0)
    if zh:
        return zh
    return f"系统错误（{exc.strerror or type(exc).__name__}）"


def _writable_dir(d: Path) -> None:
    """Create the folder (and its parents) if needed; raise OutputError unless it can hold a new file."""
    if d.exists() and not d.is_dir():
        raise OutputError(d, f"{d} 是一个文件，不是文件夹")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise OutputError(d, f"无法创建文件夹 {d}：路径中有同名文件") from exc
    except OSError as exc:
        raise OutputError(d, f"无法创建文件夹 {d}：{os_error_zh(exc)}") from exc
    if not os.access(d, os.W_OK | os.X_OK):
        raise OutputError(d, f"无法写入文件夹 {d}：没有写入权限或所在位置是只读的")


def check_target(path: str | Path, suffixes: Iterable[str] = (".xlsx",), force: bool = False) -> Path:
    """Raise OutputError unless `path` may be written: a file name with the right extension,
    not an existing folder, not an existing file unless `force`."""
    p = Path(path)
    allowed = tuple(s.lower() for s in suffixes)
    if p.is_dir():
        raise OutputError(p, f"{p} 是一个文件夹，请给出输出文件名（如 {p / ('输出' + allowed[0])}）")
    if allowed and p.suffix.lower() not in allowed:
        raise OutputError(p, f"输出文件 {p} 的扩展名应为 {' 或 '.join(allowed)}（写出的是这种格式）")
    if p.exists() and not force:
        raise OutputError(p, f"{p} 已存在，未覆盖。如确需覆盖请加 --force，或换一个文件名")
    return p


class Outputs:
    """A set of outputs committed together: check → write each to a temporary file → rename all.

    Use as a context manager; files are renamed into place only if the block completes.
    """

    def __init__(self, force: bool = False):
        self.force = force
        self._pending: list[tuple[Path, Path]] = []  # (temporary, final)
        self.written: list[Path] = []

    def add(self, path: str | Path, write: Callable[[Path], object],
            suffixes: Iterable[str] = (".xlsx",)) -> Path:
        """Write one output: `write(tmp_path)` must create the file at tmp_path."""
        p = check_target(path, suffixes, self.force)
        _writable_dir(p.parent)
        from .interrupts import deferred

        with deferred():  # a Ctrl-C between creating the temporary file and noting it would leave it behind
            try:
                fd, tmp_name = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=p.suffix, dir=p.parent)
            except OSError as exc:
                raise OutputError(p, f"无法写入 {p}：{os_error_zh(exc)}（所在文件夹 {p.parent}）") from exc
            os.close(fd)
            tmp = Path(tmp_name)
            self._pending.append((tmp, p))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the output gets the usual permissions
        try:
            write(tmp)
        except OSError as exc:
            raise OutputError(p, f"无法写入 {p}：{os_error_zh(exc)}") from exc
        return p

    def add_bytes(self, path: str | Path, data: bytes, suffixes: Iterable[str] = (".xlsx",)) -> Path:
        return self.add(path, lambda tmp: _write_synced(tmp, data), suffixes)

    def commit(self) -> list[Path]:
        for tmp, final in self._pending:
            try:
                os.replace(tmp, final)
            except OSError as exc:
                raise OutputError(final, f"无法写入 {final}：{os_error_zh(exc)}") from exc
            self.written.append(final)
        self._pending.clear()
        return self.written

    def discard(self) -> None:
        for tmp, _ in self._pending:
            try:
                tmp.unlink()
            except OSError:
                pass
        self._pending.clear()

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.commit()
            finally:
                self.discard()
        else:
            self.discard()


def _umask() -> int:
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


_UMASK: int | None = None


def _write_synced(path: Path, data: bytes) -> None:
    # No fsync: the rename protects against errors, a full disk and Ctrl-C (not power loss),
    # and an fsync per workbook would cost more than generating it.
    with open(path, "wb") as fh:
        fh.write(data)


def write_bytes(path: str | Path, data: bytes, force: bool = False, suffixes: Iterable[str] = (".xlsx",)) -> Path:
    """Write one file safely (see Outputs)."""
    with Outputs(force) as out:
        out.add_bytes(path, data, suffixes)
    return Path(path)


def prepare_dir(d: str | Path) -> Path:
    """An output folder, created if needed; OutputError if it is a file or not writable."""
    p = Path(d)
    _writable_dir(p)
    return p
