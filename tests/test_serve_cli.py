"""`jixiao serve` through the real entry point: refuses unsafe binds, starts, serves the demo from a temp folder."""

from __future__ import annotations

import os
import re
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
    assert r.returncode == 2 and "不是 jixiao 数据库" in r.stderr and "Traceback" not in r.stderr


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
        assert re.search(r"<b>1</b>审核通过", r.text) and re.search(r"<b>1</b>退回", r.text)
    finally:
        _stop(proc)
    assert list(tmp_path.iterdir()) == []  # nothing written into the working folder
    out = proc.stdout.read()
    demo_db = Path(re.search(r"数据库 (\S+?jixiao\.sqlite)", out).group(1))
    assert not demo_db.parent.exists(), "the demo copy is removed when the desk stops"


def test_password_from_environment_allows_other_hosts(tmp_path):
    proc, r = _serve(["--db", str(tmp_path / "x.sqlite"), "--host", "0.0.0.0"], cwd=tmp_path,
                     env={"JIXIAO_PASSWORD": "s3cret"})
    try:
        assert r.status_code == 303 and r.headers["location"] == "/login"
    finally:
        _stop(proc)


def test_two_tabs_upload_at_once_over_http(tmp_path):
    """Two browser tabs (two sessions) upload at the same moment through the real server: nothing is lost."""
    import re
    import threading

    from tests.web_support import build_desk
    from workbook.store import Store

    desk = build_desk(tmp_path / "data")
    db = tmp_path / "desk.sqlite"
    desk.prepare(db)
    proc, r = _serve(["--db", str(db)], cwd=tmp_path)
    base = str(r.url).rstrip("/")
    outcomes: list[list[str]] = []
    try:
        def tab(names: list[str]) -> None:
            with httpx.Client(base_url=base, timeout=120) as c:
                token = re.search(r'name="csrf" value="([^"]+)"', c.get("/upload").text).group(1)
                files = [("files", (desk.returns[n].name, desk.returns[n].read_bytes())) for n in names]
                res = c.post("/upload", data={"csrf": token}, files=files)
                outcomes.append(re.findall(r'<td><span class="pill o-(\S+?)">', res.text))

        tabs = [threading.Thread(target=tab, args=(["good", "tampered"],)),
                threading.Thread(target=tab, args=(["blank", "hostile"],))]
        for t in tabs:
            t.start()
        for t in tabs:
            t.join(timeout=120)
    finally:
        _stop(proc)
    assert sorted(outcomes) == [["新收", "新收"], ["新收", "新收"]]
    with Store(db) as store:
        assert store.counts()["accepted"] == 4
        assert store.db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'upload'").fetchone()[0] == 4
