"""The worker pool: a crashing or hanging worker costs only its own file; the batch goes on."""

from __future__ import annotations

import time

import pytest

from workbook import batchread

from . import faulty_workers
from .conftest import seed_inputs
from .helpers import SEED_UNIT, factory, unit_values

START_METHODS = ["fork", "forkserver", "spawn"]


@pytest.fixture(params=START_METHODS)
def start_method(request, monkeypatch):
    """Every pool test runs under each start method (Python 3.14 no longer defaults to fork)."""
    monkeypatch.setenv("JIXIAO_START_METHOD", request.param)
    return request.param


def _files(tmp_path, n=6):
    data = factory().build(SEED_UNIT, unit_values(seed_inputs()))
    paths = []
    for i in range(n):
        p = tmp_path / f"r{i}.xlsx"
        p.write_bytes(data)
        paths.append(p)
    return paths


def test_worker_crash_costs_only_its_file(tmp_path, start_method):
    files = _files(tmp_path)
    results = list(batchread.check_many(files, workers=2, check=faulty_workers.crashing))
    assert [r.ret.file for r in results] == [str(f) for f in files]  # every file, in order
    assert results[2].rejected and "异常终止" in results[2].ret.rejected
    assert all(not r.rejected and r.report.total == 100 for i, r in enumerate(results) if i != 2)


def test_hanging_worker_times_out(tmp_path, start_method):
    files = _files(tmp_path, 4)
    start = time.monotonic()
    # 3 s: under spawn on a busy machine, starting a fresh worker for a re-check takes a while
    results = list(batchread.check_many(files, workers=2, check=faulty_workers.hanging, time_limit=3))
    assert time.monotonic() - start < 40
    assert [r.ret.file for r in results] == [str(f) for f in files]
    assert results[1].rejected and sum(1 for r in results if not r.rejected) == 3


@pytest.mark.parametrize("workers", [1, 2])
def test_unexpected_exception_is_that_files_rejection(tmp_path, start_method, workers):
    files = _files(tmp_path, 5)
    results = list(batchread.check_many(files, workers=workers, check=faulty_workers.raising))
    assert len(results) == 5 and results[3].rejected and "内部错误" in results[3].ret.rejected
    assert sum(1 for r in results if not r.rejected) == 4


def test_real_check_under_each_start_method(tmp_path, start_method):
    files = _files(tmp_path, 5)
    results = list(batchread.check_many(files, workers=2))
    assert [r.ret.file for r in results] == [str(f) for f in files]
    assert all(not r.rejected and r.report.total == 100 for r in results)


def test_closing_the_generator_ends_the_workers(tmp_path, start_method):
    """A caller that stops early (Ctrl-C while storing) must not leave workers running."""
    import multiprocessing

    files = _files(tmp_path, 12)
    before = {p.pid for p in multiprocessing.active_children()}  # other tests' pools may still be ending
    gen = batchread.check_many(files, workers=2)
    next(gen)
    ours = [p for p in multiprocessing.active_children() if p.pid not in before]
    assert ours
    start = time.monotonic()
    gen.close()
    while [p for p in ours if p.is_alive()] and time.monotonic() - start < 5:
        time.sleep(0.05)
    assert not [p for p in ours if p.is_alive()], "workers outlived the closed generator by 5 s"
