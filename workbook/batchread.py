"""Read and verify many files in worker processes, each with a memory and time limit.

One pathological file can at worst kill its own worker: the batch records it as
rejected, restarts the pool and goes on.  Nothing is lost.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from .read import Return, read_return
from .verify import Verification, verify

MEMORY_LIMIT = 1024 * 1024 * 1024  # bytes of address space per worker
TIME_LIMIT = 30  # seconds per file


def _limit_worker(memory: int) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-POSIX
        pass


class _Timeout(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only in workers
    raise _Timeout()


def check_file(path: str, time_limit: int = TIME_LIMIT) -> Verification:
    """Read + verify one file (runs in a worker)."""
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(time_limit)
    try:
        v = verify(read_return(path))
        v.ret.drop_layout()  # keep the result small for the trip back to the parent process
        return v
    except _Timeout:
        return verify(Return(path, "", 0, rejected=f"解析超时（超过 {time_limit} 秒），疑似恶意文件"))
    except MemoryError:
        return verify(Return(path, "", 0, rejected="解析时内存超限，疑似压缩炸弹或恶意文件"))
    finally:
        if hasattr(signal, "SIGALRM"):
            signal.alarm(0)


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """Files under the given files and folders (recursively), and the paths that do not exist."""
    files: list[Path] = []
    missing: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("~$")))
        elif p.is_file():
            files.append(p)
        else:
            missing.append(p)
    return files, missing


def check_many(files: list[Path], workers: int | None = None,
               on_result: Callable[[Verification], None] | None = None) -> Iterator[Verification]:
    """Verify files in worker processes; yields one Verification per file, in input order.

    At most a few files per worker are in flight, and a result is released once yielded,
    so memory does not grow with the number of files.  A crashed or hung worker costs
    only its own file (recorded as rejected); the pool is restarted and the batch goes on.
    """
    workers = workers or max(1, min(os.cpu_count() or 1, 4))
    if workers == 1 or len(files) <= 2:
        for f in files:
            try:
                v = check_file(str(f))
            except Exception as exc:  # noqa: BLE001 - one file's failure must never stop the batch
                v = verify(Return(str(f), "", 0, rejected=f"读取时发生内部错误（{type(exc).__name__}: {exc}）"))
            if on_result:
                on_result(v)
            yield v
        return
    queue = deque(str(f) for f in files)
    window = workers * 4
    while queue:
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_limit_worker, initargs=(MEMORY_LIMIT,))
        inflight: deque[tuple[str, Any]] = deque()
        broken = False
        try:
            while queue or inflight:
                while queue and len(inflight) < window:
                    path = queue.popleft()
                    inflight.append((path, pool.submit(check_file, path)))
                path, fut = inflight.popleft()
                try:
                    v = fut.result(timeout=TIME_LIMIT * 2)
                except (BrokenProcessPool, FutureTimeout) as exc:
                    v = verify(Return(path, "", 0, rejected=f"解析进程异常终止（{type(exc).__name__}），疑似恶意文件"))
                    broken = True
                except Exception as exc:  # noqa: BLE001 - one file's failure must never stop the batch
                    v = verify(Return(path, "", 0, rejected=f"读取时发生内部错误（{type(exc).__name__}: {exc}）"))
                if on_result:
                    on_result(v)
                yield v
                if broken:
                    queue.extendleft(reversed([p for p, _ in inflight]))  # retry the rest in a fresh pool
                    break
        finally:
            if broken:  # a hung or dead worker: end the pool's processes rather than wait for them
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.terminate()
            pool.shutdown(wait=not broken, cancel_futures=True)


