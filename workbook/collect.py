"""Collect a folder of returns into the store: read in parallel, verify, store; never stopped by one file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .batchread import check_many, expand_paths
from .store import DUPLICATE, NEW, REJECTED, UPDATED, Store
from .verify import Verification


@dataclass
class CollectSummary:
    files: int = 0
    counts: Counter = field(default_factory=Counter)  # new/updated/duplicate/rejected
    with_errors: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    @property
    def new(self) -> int:
        return self.counts[NEW]

    @property
    def updated(self) -> int:
        return self.counts[UPDATED]

    @property
    def duplicate(self) -> int:
        return self.counts[DUPLICATE]

    @property
    def rejected_count(self) -> int:
        return self.counts[REJECTED]


def collect(paths: Iterable[str | Path], store: Store, workers: int | None = None,
            on_file: Callable[[Verification, str], None] | None = None) -> CollectSummary:
    """Read, verify and store every file under `paths`; every file ends up stored or listed as rejected."""
    files, missing = expand_paths(paths)
    summary = CollectSummary(files=len(files) + len(missing))
    for m in missing:
        summary.counts[REJECTED] += 1
        summary.rejected.append((str(m), "路径不存在"))
    for v in check_many(files, workers):
        stored = store.add(v)
        summary.counts[stored.outcome] += 1
        if stored.outcome == REJECTED:
            summary.rejected.append((v.ret.file, v.ret.rejected or v.findings[0].message))
        elif stored.has_errors and stored.outcome != DUPLICATE:
            summary.with_errors += 1
        if on_file:
            on_file(v, stored.outcome)
    return summary

