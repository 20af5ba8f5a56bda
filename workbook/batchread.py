"""Read and verify many files in worker processes, each with a memory and time limit.

One pathological file can at worst kill its own worker: the batch records it as
rejected, restarts the pool and goes on.  Nothing is lost.

Workers die with their parent: they ignore Ctrl-C (the parent ends them), and on Linux
the kernel kills them when the parent dies, even by `kill -9`, so no worker outlives a
command holding the store or its output pipe.  The pool works with every start method
(fork, forkserver, spawn); JIXIAO_START_METHOD chooses one.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from .read import Return, read_return
from .scan import Scan
from .verify import Verification, verify

MEMORY_LIMIT = 1024 * 1024 * 1024  # bytes of address space per worker
TIME_LIMIT = 30  # seconds per file


def _limit_worker(memory: int) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-POSIX
        pass


PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Make this worker end when the process that started it ends, however it ends."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux: the watchdog below still works
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watchdog() -> None:  # portable fallback
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watchdog, daemon=True).start()


def _init_worker(memory: int) -> None:
    """Worker set-up: the parent alone handles Ctrl-C; die with the parent; limit memory."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(os.getppid())
    _limit_worker(memory)


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
    scan = scan_paths(paths)
    return scan.files, scan.missing


def scan_paths(paths: Iterable[str | Path]) -> Scan:
    """Files to check under the given files and folders (recursively).

    In folders, files that are clearly not spreadsheets (see `scan.is_spreadsheet_candidate`)
    are skipped and listed; a file named on the command line is always checked.
    """
    from .scan import Scan, is_candidate

    out = Scan()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if not f.is_file():
                    continue
                if is_candidate(f):
                    out.files.append(f)
                else:
                    out.skipped.append(f)
        elif p.is_file():
            out.files.append(p)
        else:
            out.missing.append(p)
    return out


def _crashed(path: str, exc: BaseException) -> Verification:
    return verify(Return(path, "", 0, rejected=f"解析进程异常终止（{type(exc).__name__}），疑似恶意文件"))


def _internal(path: str, exc: BaseException) -> Verification:
    return verify(Return(path, "", 0, rejected=f"读取时发生内部错误（{type(exc).__name__}: {exc}）"))


def _new_pool(workers: int) -> ProcessPoolExecutor:
    method = os.environ.get("JIXIAO_START_METHOD") or None
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method),
                               initializer=_init_worker, initargs=(MEMORY_LIMIT,))


def _kill(pool: ProcessPoolExecutor) -> None:
    """End a pool's processes now rather than wait for them (broken, hung or interrupted)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    results = getattr(pool, "_result_queue", None)  # shutdown() forgets it
    for proc in procs:
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + 2
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(1)
    # A worker killed while sending its result leaves half a message in the result pipe, and
    # the pool's manager thread then waits for the rest forever (and the interpreter waits for
    # it at exit).  The parent never writes to that pipe: closing its copy of the write end
    # turns the wait into end-of-file, and the thread ends.
    writer = getattr(results, "_writer", None)
    if writer is not None:
        try:
            writer.close()
        except OSError:
            pass


def _isolated(path: str, check: Callable[..., Verification], time_limit: int) -> Verification:
    """Check one file in a pool of its own: when that pool breaks, this file broke it."""
    pool = _new_pool(1)
    done = False
    try:
        v = pool.submit(check, path, time_limit).result(timeout=time_limit * 2)
        done = True
        return v
    except (BrokenProcessPool, FutureTimeout) as exc:
        return _crashed(path, exc)
    except Exception as exc:  # noqa: BLE001 - one file's failure must never stop the batch
        done = True
        return _internal(path, exc)
    finally:
        if done:
            pool.shutdown(wait=True)
        else:
            _kill(pool)


def check_many(files: list[Path], workers: int | None = None,
               on_result: Callable[[Verification], None] | None = None,
               isolate: bool = False, *, check: Callable[..., Verification] | None = None,
               time_limit: int | None = None) -> Iterator[Verification]:
    """Verify files in worker processes; yields one Verification per file, in input order.

    At most a few files per worker are in flight, and a result is released once yielded,
    so memory does not grow with the number of files.  When a worker dies, the pool fails
    every file in flight, so those files are checked again one by one in pools of their
    own: only the file that really kills a worker is rejected.  A file that hangs past the
    time limit is rejected.  The batch always goes on.  With `isolate` even one file is checked
    in a worker process (a server must: its limits rely on a process and on the main thread's signals).

    `check` (a picklable module-level function like check_file) and `time_limit` exist for
    tests.  If the caller stops early (Ctrl-C, an exception, closing the generator), the
    workers are ended at once.
    """
    workers = workers or max(1, min(os.cpu_count() or 1, 4))
    check = check or check_file
    time_limit = time_limit or TIME_LIMIT

    def emit(v: Verification) -> Verification:
        if on_result:
            on_result(v)
        return v

    if not isolate and (workers == 1 or len(files) <= 2):
        for f in files:
            try:
                v = check(str(f), time_limit)
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
        finished = False
        try:
            while queue or inflight:
                while queue and len(inflight) < window:
                    path = queue.popleft()
                    inflight.append((path, pool.submit(check, path, time_limit)))
                path, fut = inflight.popleft()
                try:
                    v = fut.result(timeout=time_limit * 2)
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
            finished = True
        finally:
            if finished and not retry:
                pool.shutdown(wait=True)
            else:  # a broken or hung worker, or the caller stopped (Ctrl-C): end the workers now
                _kill(pool)
        for path in retry:
            yield emit(_isolated(path, check, time_limit))
