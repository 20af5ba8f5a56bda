"""Ctrl-C, SIGTERM and kill -9 during `jixiao collect`: workers end with the command, the store stays consistent.

Each test runs the real entry point (`python -m cli.main`) in its own process group on a
few hundred returns and signals it part-way, as a terminal's Ctrl-C signals the whole
foreground group.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from workbook.generate import Unit
from workbook.synthetic import synthetic_inputs, synthetic_unit, with_notes

from .helpers import factory

ROOT = Path(__file__).resolve().parent.parent
N_FILES = 240


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inbox")
    rng = random.Random(7)
    for i in range(N_FILES):
        code, name, dept = synthetic_unit(i, rng)
        factory().write(folder / f"{code}.xlsx", Unit(name, code, 2021, dept),
                        with_notes(synthetic_inputs(rng, "good")))
    return folder


def _start(inbox: Path, db: Path, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "cli.main", "collect", str(inbox), "--db", str(db),
                             "--workers", "2"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def _group_gone(pgid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _wait_until_storing(db: Path, at_least: int = 1, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(db, timeout=1) as c:
                if c.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] >= at_least:
                    return
        except sqlite3.Error:
            pass
        time.sleep(0.02)
    raise AssertionError("collect did not start storing")


def _consistent(db: Path) -> int:
    """The store after an interruption: intact, every stored file has its sighting, one current per unit."""
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = c.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
        assert c.execute("SELECT COUNT(*) FROM sightings").fetchone()[0] >= rows
        orphans = c.execute("SELECT COUNT(*) FROM submissions s WHERE NOT EXISTS "
                            "(SELECT 1 FROM sightings g WHERE g.submission_id = s.id)").fetchone()[0]
        assert orphans == 0
        dup_current = c.execute("SELECT COUNT(*) FROM (SELECT budget_code, year FROM submissions WHERE is_current = 1 "
                                "GROUP BY budget_code, year HAVING COUNT(*) > 1)").fetchone()[0]
        assert dup_current == 0
        return rows


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_collect_repeatedly_then_resumed(inbox, tmp_path, sig):
    db = tmp_path / "j.sqlite"
    rng = random.Random(sig)
    stored_before = 0
    for round_ in range(3):
        proc = _start(inbox, db)
        _wait_until_storing(db, stored_before + 1)
        time.sleep(rng.uniform(0.0, 0.4))
        start = time.monotonic()
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # Ctrl-C: the whole foreground process group
        else:
            proc.send_signal(sig)  # SIGTERM: the command only; its workers must follow
        out, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - start
        text = err.decode()
        assert elapsed < 5, f"round {round_}: took {elapsed:.1f} s to stop"
        assert _group_gone(proc.pid), "a worker outlived the command"
        assert "Traceback" not in text and "OperationalError" not in text, text
        stored = _consistent(db)
        if proc.returncode == 0:  # finished before the signal landed
            break
        assert proc.returncode == 130, (proc.returncode, text)
        assert "已中断" in text and "重新运行同一命令即可继续" in text
        assert f"新收 {stored - stored_before}，" in text, (text, stored, stored_before)
        stored_before = stored
    proc = _start(inbox, db)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert _consistent(db) == N_FILES


def test_kill_9_leaves_no_worker_holding_the_pipe(inbox, tmp_path):
    """`jixiao collect … | tee log` must end when collect is killed outright."""
    db = tmp_path / "j.sqlite"
    proc = _start(inbox, db)
    _wait_until_storing(db)
    eof = threading.Event()

    def drain() -> None:
        proc.stdout.read()  # returns only when every process holding the pipe has ended
        eof.set()

    threading.Thread(target=drain, daemon=True).start()
    proc.kill()
    proc.wait(timeout=10)
    assert eof.wait(10), "a worker still holds collect's output pipe after kill -9"
    assert _group_gone(proc.pid)
    _consistent(db)


def _interrupt_after(args: list, wait_for, within: float = 60.0) -> tuple[subprocess.Popen, str, float]:
    """Start the command, wait until wait_for() holds, Ctrl-C its process group; (proc, stderr, seconds to stop)."""
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", *map(str, args)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + within
    while not wait_for(proc) and time.monotonic() < deadline:
        time.sleep(0.02)
    start = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    return proc, err.decode(), time.monotonic() - start


def test_interrupted_verify_stops_at_once(inbox):
    proc, err, took = _interrupt_after(["verify", inbox, "--workers", "2"],
                                       lambda p: bool(p.stdout.readline()))  # results stream: one is out
    assert took < 5 and _group_gone(proc.pid)
    assert proc.returncode == 130, err
    assert "已中断：已核验" in err and "Traceback" not in err


def test_interrupted_generate_writes_nothing(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("预算编码,单位名称,主管部门\n" + "".join(f"{i},单位{i},局\n" for i in range(1, 4001)),
                      encoding="utf-8")
    out = tmp_path / "下发"
    proc, err, took = _interrupt_after(["generate", "--roster", roster, "--year", "2021", "--out-dir", out],
                                       lambda p: out.exists() and any(out.iterdir()))
    assert took < 5
    assert proc.returncode == 130, err
    assert "已中断：没有写出任何工作簿" in err and "Traceback" not in err
    assert list(out.iterdir()) == []  # neither workbooks nor temporary files
