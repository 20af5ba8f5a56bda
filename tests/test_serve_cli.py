"""`jixiao serve` through the real entry point: refuses unsafe binds, starts, serves the demo from a temp folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def test_refuses_public_address_without_password(tmp_path):
    r = run("serve", "--db", str(tmp_path / "x.sqlite"), "--host", "0.0.0.0")
    assert r.returncode == 2
    assert "必须设置登录密码" in r.stderr and "Traceback" not in r.stderr
    r = run("serve", "--db", str(tmp_path / "x.sqlite"), "--port", "70000")
    assert r.returncode == 2 and "端口" in r.stderr


def test_bad_store_is_a_clear_error(tmp_path):
    bad = tmp_path / "not-a-db.sqlite"
    bad.write_text("hello, not sqlite" * 100, encoding="utf-8")
    r = run("serve", "--db", str(bad), "--port", str(_free_port()))
    assert r.returncode == 2 and "无法打开数据库" in r.stderr and "Traceback" not in r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(args: list[str], cwd: Path, env: dict | None = None):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--port", str(port), *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    deadline = time.time() + 60
    while True:
        try:
            return proc, httpx.get(f"http://127.0.0.1:{port}/", timeout=10, follow_redirects=False)
        except httpx.TransportError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail("服务器未能启动：" + (proc.stderr.read() if proc.stderr else ""))
            time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_demo_serves_a_filled_desk_from_a_temp_folder(tmp_path):
    proc, r = _serve(["--demo"], cwd=tmp_path)
    try:
        assert r.status_code == 200
        assert "2021 年度回收台账" in r.text and r.text.count('<td class="name">') == 12
        assert "岳阳市岳阳楼区社会保险服务中心" in r.text
    finally:
        _stop(proc)
    assert list(tmp_path.iterdir()) == []  # nothing written into the working folder


def test_password_from_environment_allows_other_hosts(tmp_path):
    proc, r = _serve(["--db", str(tmp_path / "x.sqlite"), "--host", "0.0.0.0"], cwd=tmp_path,
                     env={"JIXIAO_PASSWORD": "s3cret"})
    try:
        assert r.status_code == 303 and r.headers["location"] == "/login"
    finally:
        _stop(proc)
