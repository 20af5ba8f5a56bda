"""Ctrl-C and SIGTERM: both end a command the same way, and never in the middle of a store write.

`install()` (called by the command line) makes SIGTERM raise KeyboardInterrupt like Ctrl-C,
so `finally` blocks run, workers are ended and the store is left consistent.  `deferred()`
holds both signals back for the length of a block (one store transaction) and raises
KeyboardInterrupt after it if one arrived.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C


def _raise(signum, frame):
    raise KeyboardInterrupt


def install() -> None:
    """SIGTERM behaves as Ctrl-C (KeyboardInterrupt) in this process."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise)


@contextmanager
def deferred() -> Iterator[None]:
    """Run the block without being interrupted; a Ctrl-C/SIGTERM that arrives meanwhile is raised after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    old = {s: h for s, h in old.items() if h is not signal.SIG_IGN}  # an ignored signal stays ignored
    for s in old:
        signal.signal(s, lambda signum, frame: got.append(signum))
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if got:
        raise KeyboardInterrupt
