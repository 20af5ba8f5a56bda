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


def _crashed(path: str, exc: BaseException) -> Verification:
    return verify(Return(path, "", 0, rejected=f"解析进程异常终止（{type(exc).__name__}），疑似恶意文件"))


def _internal(path: str, exc: BaseException) -> Verification:
    return verify(Return(path, "", 0, rejected=f"读取时发生内部错误（{type(exc).__name__}: {exc}）"))


def _new_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_limit_worker, initargs=(MEMORY_LIMIT,))


def _kill(pool: ProcessPoolExecutor) -> None:
    """End a broken or hung pool's processes rather than wait for them."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _isolated(path: str) -> Verification:
    """Check one file in a pool of its own: when that pool breaks, this file broke it."""
    pool = _new_pool(1)
    try:
        return pool.submit(check_file, path).result(timeout=TIME_LIMIT * 2)
    except (BrokenProcessPool, FutureTimeout) as exc:
        _kill(pool)
        return _crashed(path, exc)
    except Exception as exc:  # noqa: BLE001 - one file's failure must never stop the batch
        return _internal(path, exc)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def check_many(files: list[Path], workers: int | None = None,
               on_result: Callable[[Verification], None] | None = None,
               isolate: bool = False) -> Iterator[Verification]:
    """Verify files in worker processes; yields one Verification per file, in input order.

    At most a few files per worker are in flight, and a result is released once yielded,
    so memory does not grow with the number of files.  When a worker dies, the pool fails
    every file in flight, so those files are checked again one by one in pools of their
    own: only the file that really kills a worker is rejected.  A file that hangs past the
    time limit is rejected.  The batch always goes on.  With `isolate` even one file is checked
    in a worker process (a server must: its limits rely on a process and on the main thread's signals).
    """
    workers = workers or max(1, min(os.cpu_count() or 1, 4))

    def emit(v: Verification) -> Verification:
        if on_result:
            on_result(v)
        return v

    if not isolate and (workers == 1 or len(files) <= 2):
        for f in files:
            try:
                v = check_file(str(f))
            except Exception as exc:  # noqa: BLE001 - one file's failure must never stop the batch
                v = _internal(str(f), exc)
            yield emit(v)
        return
    queue = deque(str(f) for f in files)
    window = workers * 4
    while queue:
        pool = _new_pool(workers)
        inflight: deque[tuple[str, Any]] = deque()
        retry: list[str] = []
        try:
            while queue or inflight:
                while queue and len(inflight) < window:
                    path = queue.popleft()
                    inflight.append((path, pool.submit(check_file, path)))
                path, fut = inflight.popleft()
                try:
                    v = fut.result(timeout=TIME_LIMIT * 2)
                except FutureTimeout as exc:  # this file hung: reject it, re-check the others in flight
                    yield emit(_crashed(path, exc))
                    retry = [p for p, _ in inflight]
                    break
                except BrokenProcessPool:  # some worker died: every file in flight is a suspect
                    retry = [path] + [p for p, _ in inflight]
                    break
                except Exception as exc:  # noqa: BLE001 - one file's failure must never stop the batch
                    v = _internal(path, exc)
                yield emit(v)
        finally:
            if retry:
                _kill(pool)
            else:
                pool.shutdown(wait=True)
        for path in retry:
            yield emit(_isolated(path))
