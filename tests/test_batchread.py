"""The worker pool: a crashing or hanging worker costs only its own file; the batch goes on."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from workbook import batchread

from . import faulty_workers
from .conftest import seed_inputs
from .helpers import SEED_UNIT, factory, unit_values

pytestmark = pytest.mark.skipif(multiprocessing.get_start_method() != "fork",
                                reason="the patched worker function reaches workers only with the fork start method")


def _files(tmp_path, n=6):
    data = factory().build(SEED_UNIT, unit_values(seed_inputs()))
    paths = []
    for i in range(n):
        p = tmp_path / f"r{i}.xlsx"
        p.write_bytes(data)
        paths.append(p)
    return paths


def test_worker_crash_costs_only_its_file(tmp_path, monkeypatch):
    monkeypatch.setattr(batchread, "check_file", faulty_workers.crashing)
    files = _files(tmp_path)
    results = list(batchread.check_many(files, workers=2))
    assert [r.ret.file for r in results] == [str(f) for f in files]  # every file, in order
    assert results[2].rejected and "异常终止" in results[2].ret.rejected
    assert all(not r.rejected and r.report.total == 100 for i, r in enumerate(results) if i != 2)


def test_hanging_worker_times_out(tmp_path, monkeypatch):
    monkeypatch.setattr(batchread, "check_file", faulty_workers.hanging)
    monkeypatch.setattr(batchread, "TIME_LIMIT", 1)
    files = _files(tmp_path, 4)
    start = time.monotonic()
    results = list(batchread.check_many(files, workers=2))
    assert time.monotonic() - start < 15
    assert [r.ret.file for r in results] == [str(f) for f in files]
    assert results[1].rejected and sum(1 for r in results if not r.rejected) == 3


@pytest.mark.parametrize("workers", [1, 2])
def test_unexpected_exception_is_that_files_rejection(tmp_path, monkeypatch, workers):
    monkeypatch.setattr(batchread, "check_file", faulty_workers.raising)
    files = _files(tmp_path, 5)
    results = list(batchread.check_many(files, workers=workers))
    assert len(results) == 5 and results[3].rejected and "内部错误" in results[3].ret.rejected
    assert sum(1 for r in results if not r.rejected) == 4
