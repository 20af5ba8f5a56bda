"""End-to-end: a clerk's day in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Locally these tests skip with a reason when Chromium or Playwright is missing; under CI=true they must run.
Screenshots of the 台账 and a 单位详情 page (1366×768) go to docs/ with JIXIAO_SCREENSHOTS=1, else to tmp_path.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.web_support import HOSTILE_NAME, YEAR, build_desk
from web.app import create_app
from web.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("JIXIAO_CHROMIUM", "/usr/bin/chromium")


def require_browser():
    """Playwright's sync API with the system Chromium; skip with a reason locally, fail under CI=true."""
    problem = None
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        problem = f"找不到 Chromium（{CHROMIUM}）：apt-get install chromium fonts-noto-cjk"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = problem or "未安装 Playwright for Python：pip install playwright（不需要 playwright install）"
        sync_playwright = None
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true 但无法运行浏览器测试：" + problem)
        pytest.skip(problem)
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    import uvicorn

    port = _free_port()
    app = create_app(Settings(db=tmp_path / "desk.sqlite", workers=2, upload_batch=2))  # 3 requests for 6 files
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started:
        assert time.time() < deadline, "服务器未能在 20 秒内启动"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_clerk_day_in_chromium(server, tmp_path):
    sync_playwright = require_browser()
    from playwright.sync_api import expect
    desk = build_desk(tmp_path / "data")
    desk.prepare(tmp_path / "desk.sqlite")  # the store that issued the test returns' workbooks
    dup = tmp_path / "data" / "returns-dup" / "200009-重复发送.xlsx"
    dup.parent.mkdir()
    dup.write_bytes(desk.returns["good"].read_bytes())
    # the README's screenshots are refreshed only on request; a test run never rewrites tracked files
    docs = ROOT / "docs" if os.environ.get("JIXIAO_SCREENSHOTS") == "1" else tmp_path / "shots"
    docs.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--lang=zh-CN"])
        page = browser.new_page(viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="zh-CN")
        page.set_default_timeout(60_000)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        console_errors: list[str] = []
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

        # 年度任务: roster → generate → zip
        page.goto(f"{server}/tasks?year={YEAR}")
        page.set_input_files("input[name=roster]", str(desk.roster))
        page.click("button:has-text('上传花名册')")
        page.wait_for_selector("text=花名册已保存：5 个单位")
        with page.expect_download() as dl:
            page.click("text=生成全部 5 份工作簿（zip）")
        zpath = tmp_path / "workbooks.zip"
        dl.value.save_as(zpath)
        assert dl.value.suggested_filename == f"{YEAR}年度下发工作簿.zip"
        with zipfile.ZipFile(zpath) as zf:
            assert len(zf.namelist()) == 5

        # 收表: good, tampered, hostile-named, a text file, a duplicate
        page.goto(f"{server}/upload")
        files = [desk.returns["good"], dup] + [desk.returns[k] for k in ("tampered", "blank", "hostile", "text")]
        page.set_input_files("input[name=files]", [str(p) for p in files])
        page.click("button:has-text('上传并核验')")
        page.wait_for_selector("#results[data-done]")
        outcomes = page.locator("table.fates tbody tr td:nth-child(2)").all_inner_texts()
        assert outcomes == ["新收", "重复", "新收", "新收", "新收", "拒收"]
        assert "新收 4" in page.inner_text("#results .summary-line")
        page.screenshot(path=str(docs / "web-upload.png"))
        assert "不是 .xlsx 文件" in page.locator("table.fates").inner_text()

        # 回收台账
        page.goto(f"{server}/?year={YEAR}")
        board = page.locator("table.board").inner_text()
        assert HOSTILE_NAME in board  # shown as text, not run as a script
        assert dialogs == []  # the unit named <script>alert(1)</script> ran nothing
        rows = {r.split("\t")[0]: r for r in page.locator("table.board tbody tr").all_inner_texts()}
        assert "未报送" in rows["900004"] and "有错误" in rows["900001"] and "有错误" in rows["900002"]
        assert "待审核" in rows["200009"]
        page.screenshot(path=str(docs / "web-board.png"))
        page.fill("input[name=q]", "保障中心")
        expect(page.locator("table.board tbody tr")).to_have_count(1)  # htmx swapped in the filtered board

        # 单位详情 → 退回 with a reason
        page.goto(f"{server}/unit/{YEAR}/900001")
        page.screenshot(path=str(docs / "web-unit.png"))
        page.goto(f"{server}/?year={YEAR}")
        page.click("text=合成单位0002保障中心（演示）")
        page.wait_for_selector("text=附件3-2 评分表")
        assert page.locator("button.primary:has-text('通过')").is_disabled()
        page.fill("textarea[name=reason]", "公务卡支付金额未填写，请补填后重新报送")
        page.click("button:has-text('退回')")
        page.wait_for_selector("text=已退回")
        page.click(".flash a:has-text('打印退回通知')")
        page.wait_for_selector("text=退回通知")
        assert "公务卡支付金额未填写，请补填后重新报送" in page.inner_text("body")

        # corrected return → 待审核 → 通过
        page.goto(f"{server}/upload")
        page.set_input_files("input[name=files]", str(desk.returns["corrected"]))
        page.click("button:has-text('上传并核验')")
        page.wait_for_selector("#results[data-done]")
        assert page.locator("table.fates tbody tr td:nth-child(2)").all_inner_texts() == ["更新"]
        page.goto(f"{server}/unit/{YEAR}/900002")
        assert "待审核" in page.locator("#review").inner_text() or "待审核" in page.inner_text(".facts")
        page.click("button.primary:has-text('通过')")
        page.wait_for_selector("text=已通过")

        # 汇总: download the district workbook and open it
        page.goto(f"{server}/summary?year={YEAR}")
        assert page.locator("svg.chart").count() == 2
        page.screenshot(path=str(docs / "web-summary.png"))
        page.click("button:has-text('生成汇总工作簿')")
        with page.expect_download() as dl:
            page.click("#job a:has-text('下载')")
        xpath = tmp_path / "district.xlsx"
        dl.value.save_as(xpath)
        assert dl.value.suggested_filename == f"{YEAR}年度绩效自评汇总.xlsx"
        wb = openpyxl.load_workbook(xpath)
        codes = {row[0] for row in wb["汇总"].iter_rows(min_row=2, values_only=True)}
        assert {"200009", "900001", "900002", "900003"} <= codes
        assert dialogs == []
        assert [e for e in console_errors if "favicon" not in e] == []  # no CSP violation, no script error
        browser.close()
    assert (docs / "web-board.png").stat().st_size > 10_000
