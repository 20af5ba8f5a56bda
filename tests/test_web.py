"""The web desk through the ASGI test client: every route, good and bad input, never a 500."""

from __future__ import annotations

import io
import re
import sqlite3
import threading
import time
import zipfile

import openpyxl
import pytest
from starlette.testclient import TestClient

from tests.web_support import HOSTILE_DEPT, HOSTILE_NAME, YEAR, Desk, build_desk, csrf_of
from web.app import create_app
from web.downloads import content_disposition
from web.settings import Settings
from workbook import batchread, review
from workbook.read import read_return
from workbook.store import Store
from workbook.verify import verify

REAL_CHECK = batchread.check_file


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Desk:
    return build_desk(tmp_path_factory.mktemp("desk"))


def make_client(tmp_path, desk: Desk | None = None, **kw) -> TestClient:
    """A desk on a fresh store (that issued the test returns' workbooks, when `desk` is given)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if desk is not None:
        desk.prepare(tmp_path / "desk.sqlite")
    return TestClient(create_app(Settings(db=tmp_path / "desk.sqlite", workers=2, **kw)),
                      raise_server_exceptions=False)


@pytest.fixture
def client(tmp_path, desk):
    with make_client(tmp_path, desk) as c:  # runs the app's lifespan (background job files removed at the end)
        yield c


def token(client: TestClient) -> str:
    return csrf_of(client.get("/upload").text)


def upload(client: TestClient, *paths, dry_run: bool = False, **extra):
    files = [("files", (p.name, p.read_bytes())) for p in paths]
    data = {"csrf": token(client)} | ({"dry_run": "1"} if dry_run else {}) | extra
    return client.post("/upload", data=data, files=files)


def fates(html: str) -> list[str]:
    return re.findall(r'<td><span class="pill o-(\S+?)">', html)


def roster_upload(client: TestClient, path, year: int = YEAR, name: str | None = None):
    return client.post("/tasks/roster", data={"csrf": token(client), "year": str(year)},
                       files={"roster": (name or path.name, path.read_bytes())})


# -- 收表 ---------------------------------------------------------------------
def test_upload_reports_each_file_fate(client, desk):
    r = upload(client, desk.returns["good"], desk.returns["tampered"], desk.returns["text"])
    assert r.status_code == 200
    assert fates(r.text) == ["新收", "新收", "拒收"]
    assert "不是 .xlsx 文件" in r.text
    r = upload(client, desk.returns["good"])
    assert fates(r.text) == ["重复"]
    with Store(client.app.state.settings.db) as s:
        assert s.counts()["accepted"] == 2


def test_upload_zip_and_dry_run(client, desk):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("收到/" + desk.returns["good"].name, desk.returns["good"].read_bytes())
        zf.writestr("收到/" + desk.returns["blank"].name, desk.returns["blank"].read_bytes())
        zf.writestr("__MACOSX/._x.xlsx", b"junk")
    files = [("files", ("报回.zip", buf.getvalue()))]
    r = client.post("/upload", data={"csrf": token(client), "dry_run": "1"}, files=files)
    assert fates(r.text) == ["仅检查", "仅检查"]
    with Store(client.app.state.settings.db) as s:
        assert s.counts()["files"] == 0
    r = client.post("/upload", data={"csrf": token(client)}, files=files)
    assert fates(r.text) == ["新收", "新收"]
    assert "报回.zip/收到/" in r.text


def test_upload_bad_input(client, desk, tmp_path):
    t = token(client)
    r = client.post("/upload", data={"csrf": t})
    assert r.status_code == 400 and "没有选择文件" in r.text
    r = client.post("/upload", data={"csrf": t}, files=[("files", ("", b""))])
    assert r.status_code == 400
    r = client.post("/upload", files=[("files", ("a.xlsx", desk.returns["good"].read_bytes()))])
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post("/upload", data={"csrf": "forged"}, files=[("files", ("a.xlsx", b"x"))])
    assert r.status_code == 403
    r = client.post("/upload", data={"csrf": t}, files=[("files", ("空.xlsx", b""))])
    assert r.status_code == 200 and fates(r.text) == ["拒收"]
    r = client.post("/upload", data={"csrf": t}, files=[("files", ("坏.zip", b"PK\x03\x04broken"))])
    assert fates(r.text) == ["拒收"] and "压缩包无法打开" in r.text
    small = make_client(tmp_path / "small", desk, max_file=1000, max_request=200_000)
    r = upload(small, desk.returns["good"])
    assert r.status_code == 200 and fates(r.text) == ["拒收"] and "文件过大" in r.text
    r = small.post("/upload", data={"csrf": token(small)}, files=[("files", ("big.xlsx", b"x" * 300_000))])
    assert r.status_code == 413 and "过大" in r.text
    few = make_client(tmp_path / "few", max_files=2)
    r = few.post("/upload", data={"csrf": token(few)}, files=[("files", (f"{i}.xlsx", b"x")) for i in range(5)])
    assert r.status_code == 413 and "一次最多上传 2 个文件" in r.text


def test_concurrent_uploads_lose_nothing(tmp_path, desk):
    desk.prepare(tmp_path / "c.sqlite")
    app = create_app(Settings(db=tmp_path / "c.sqlite", workers=2))
    paths = [desk.returns[k] for k in ("good", "tampered", "blank", "hostile")]
    results = []

    def tab(files):
        c = TestClient(app)
        results.append(upload(c, *files).status_code)

    threads = [threading.Thread(target=tab, args=(paths[:2],)), threading.Thread(target=tab, args=(paths[2:],))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [200, 200]
    with Store(tmp_path / "c.sqlite") as s:
        assert s.counts()["accepted"] == 4


# -- 回收台账 ------------------------------------------------------------------
def test_board_counts_filters_search_sort(client, desk):
    assert roster_upload(client, desk.roster).status_code == 200
    upload(client, *(desk.returns[k] for k in ("good", "tampered", "blank", "hostile")))
    r = client.get(f"/?year={YEAR}")
    assert r.status_code == 200
    counts = dict((label, int(n)) for n, label in re.findall(r"<div[^>]*><b>(\d+)</b>(\S+?)</div>", r.text))
    assert counts == {"应报": 5, "已报": 4, "未报": 1, "待审核": 4, "审核通过": 0, "退回": 0}
    rows = lambda html: re.findall(r'<td class="name"><a href="/unit/2021/(\d+)">', html)  # noqa: E731
    assert sorted(rows(client.get(f"/?year={YEAR}&state=有错误").text)) == ["900001", "900002"]
    assert rows(client.get(f"/?year={YEAR}&state=未报送").text) == ["900004"]
    assert rows(client.get(f"/?year={YEAR}&q=社会保险").text) == ["200009"]
    assert rows(client.get(f"/?year={YEAR}&dept=区民政局").text) == ["900002", "900004"]
    assert rows(client.get(f"/?year={YEAR}&grade=无此等次").text) == []
    by_total = rows(client.get(f"/?year={YEAR}&sort=total&desc=1").text)
    assert by_total[0] == "200009" and by_total[-1] == "900004"
    # unit text is escaped everywhere
    assert HOSTILE_NAME not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    csv_text = client.get(f"/board/{YEAR}/export.csv").content.decode("utf-8-sig")
    assert "'" + HOSTILE_DEPT.replace('"', '""') in csv_text
    chase = client.get(f"/board/{YEAR}/chase.csv")
    assert "900004" in chase.content.decode("utf-8-sig") and "filename*=UTF-8''" in chase.headers["content-disposition"]


def test_board_bad_year_and_unknown_route(client):
    r = client.get("/?year=20x1")
    assert r.status_code == 400 and "年度" in r.text
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "页面不存在" in r.text
    assert client.get("/board/abc/export.csv").status_code == 400


# -- 单位详情与审核 -------------------------------------------------------------
def test_unit_detail_claimed_vs_recomputed(client, desk):
    upload(client, desk.returns["tampered"])
    r = client.get(f"/unit/{YEAR}/900001")
    assert r.status_code == 200
    v = verify(read_return(desk.returns["tampered"]))
    assert f"<b>{float(v.report.total):g}</b>" in r.text  # recomputed total
    assert "formula_tampered" in r.text and "score_mismatch" in r.text
    assert "复核提示" in r.text and "自报高分但复算扣分" in r.text
    sha = v.ret.sha256
    got = client.get(f"/files/{sha}")
    assert got.status_code == 200 and got.content == desk.returns["tampered"].read_bytes()
    assert "filename*=UTF-8''" in got.headers["content-disposition"]


def test_unit_unknown_and_traversal(client):
    assert client.get(f"/unit/{YEAR}/999999").status_code == 404
    assert client.get(f"/unit/{YEAR}/..%2F..%2Fetc").status_code == 404
    assert client.get("/files/../../etc/passwd").status_code == 404
    assert client.get("/files/" + "0" * 64).status_code == 404
    assert client.get("/files/abc").status_code == 404


def test_review_workflow(client, desk):
    upload(client, desk.returns["blank"], desk.returns["good"])
    t = token(client)
    url = f"/unit/{YEAR}/900002/review"
    r = client.post(url, data={"csrf": t, "action": "approve"})
    assert r.status_code == 409 and "错误" in r.text  # a return with errors cannot pass
    r = client.post(url, data={"csrf": t, "action": "return", "reason": "  "})
    assert r.status_code == 400 and "退回必须填写退回原因" in r.text
    r = client.post(url, data={"action": "return", "reason": "x"})
    assert r.status_code == 403
    r = client.post(url, data={"csrf": t, "action": "delete"})
    assert r.status_code == 400
    r = client.post(url, data={"csrf": t, "action": "return", "reason": "公务卡支付金额未填，请补填"})
    assert r.status_code == 200 and "已退回" in r.text
    r = client.post(url, data={"csrf": t, "action": "return", "reason": "again"})
    assert r.status_code == 409 and "不能再改" in r.text
    notice = client.get(f"/unit/{YEAR}/900002/notice")
    assert notice.status_code == 200 and "公务卡支付金额未填，请补填" in notice.text and "missing_input" not in notice.text
    assert client.get(f"/unit/{YEAR}/200009/notice").status_code == 409
    # the corrected return goes back to 待审核; a stale page cannot decide it
    with Store(client.app.state.settings.db) as s:
        old_id = s.db.execute("SELECT id FROM submissions WHERE budget_code='900002'").fetchone()[0]
    assert fates(upload(client, desk.returns["corrected"]).text) == ["更新"]
    assert client.post(url, data={"csrf": t, "action": "approve", "submission_id": str(old_id)}).status_code == 409
    assert ">待审核<" in client.get(f"/unit/{YEAR}/900002").text
    r = client.post(url, data={"csrf": t, "action": "approve"})
    assert r.status_code == 200 and "已通过" in r.text
    # approved, then re-uploaded: back to 待审核 and marked 有变更
    client.post(f"/unit/{YEAR}/200009/review", data={"csrf": t, "action": "approve"})
    from tests.helpers import unit_values
    from tests.web_support import TEST_KEY, seed_inputs
    from workbook.generate import WorkbookFactory

    changed = desk.returns["good"].parent / "200009-再报.xlsx"
    inputs = unit_values(seed_inputs()) | {"staff_quota": 39}
    good_id = read_return(desk.returns["good"]).return_id
    changed.write_bytes(WorkbookFactory(key=TEST_KEY).build(desk.units["good"], inputs, return_id=good_id))
    upload(client, changed)
    page = client.get(f"/unit/{YEAR}/200009").text
    assert ">待审核<" in page and "有变更" in page
    log = client.get(f"/audit?year={YEAR}").text
    assert log.count("<td>退回</td>") == 1 and log.count("<td>通过</td>") == 2
    csv_log = client.get("/audit.csv").content.decode("utf-8-sig")
    assert "公务卡支付金额未填，请补填" in csv_log
    with Store(client.app.state.settings.db) as s, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        s.db.execute("UPDATE audit_log SET detail = 'edited'")
    compare_ids = [h["id"] for h in Store(client.app.state.settings.db).history("200009", YEAR)]
    r = client.get(f"/unit/{YEAR}/200009/compare?a={compare_ids[0]}&b={compare_ids[1]}")
    assert r.status_code == 200 and "人员编制" in r.text
    assert client.get(f"/unit/{YEAR}/200009/compare?a=1&b=99999").status_code == 404


def test_bulk_approve_applies_to_filter(client, desk):
    upload(client, desk.returns["good"], desk.returns["hostile"], desk.returns["tampered"])
    r = client.post(f"/board/{YEAR}/bulk", data={"csrf": token(client), "action": "approve", "q": "社会保险"})
    assert r.status_code == 200 and "批量通过 1 份" in r.text
    with Store(client.app.state.settings.db) as s:
        states = {k: v.state for k, v in review.reviews(s, YEAR).items()}
    assert states == {"200009": "通过", "900003": "待审核", "900001": "待审核"}
    assert client.post(f"/board/{YEAR}/bulk", data={"csrf": token(client), "action": "return"}).status_code == 400


# -- 年度任务 -------------------------------------------------------------------
def test_roster_generate_and_download(client, desk, tmp_path):
    bad = tmp_path / "坏花名册.csv"
    bad.write_text("预算编码,单位名称,主管部门\n100,,局\n100,乙,局\n", encoding="utf-8")
    r = roster_upload(client, bad)
    assert r.status_code == 422 and "第 2 行：单位名称为空" in r.text and "第 3 行：预算编码 100 与第 2 行重复" in r.text
    assert roster_upload(client, bad, name="roster.txt").status_code == 415
    r = client.post("/tasks/roster", data={"csrf": token(client), "year": str(YEAR)},
                    files={"roster": ("empty.csv", b"")})
    assert r.status_code == 400
    assert client.post(f"/tasks/{YEAR}/generate", data={"csrf": token(client)}).status_code == 409
    assert roster_upload(client, desk.roster).status_code == 200
    r = client.post(f"/tasks/{YEAR}/generate", data={"csrf": token(client)})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = zf.namelist()
        assert len(names) == 5
        data = zf.read(next(n for n in names if n.startswith("200009")))
    v = verify(read_return("x.xlsx", data))
    assert v.ret.unit["budget_code"] == "200009" and not v.rejected
    one = client.post(f"/tasks/{YEAR}/generate", data={"csrf": token(client), "code": "900003"})
    assert one.status_code == 200 and "filename*=UTF-8''900003-" in one.headers["content-disposition"]
    assert read_return("y.xlsx", one.content).unit["unit_name"] == HOSTILE_NAME
    assert client.post(f"/tasks/{YEAR}/generate", data={"csrf": token(client), "code": "nope"}).status_code == 404
    assert client.post(f"/tasks/{YEAR}/generate").status_code == 403
    page = client.get(f"/tasks?year={YEAR}").text
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    # next year starts from this year's units
    assert "沿用 2021 年度花名册" in client.get(f"/tasks?year={YEAR + 1}").text
    r = client.post(f"/tasks/{YEAR + 1}/copy-roster", data={"csrf": token(client), "from": str(YEAR)})
    assert r.status_code == 200 and "花名册已保存：5 个单位" in r.text
    again = client.post(f"/tasks/{YEAR + 1}/copy-roster", data={"csrf": token(client), "from": str(YEAR)})
    assert again.status_code == 409
    none = client.post(f"/tasks/{YEAR + 3}/copy-roster", data={"csrf": token(client), "from": "2001"})
    assert none.status_code == 404


# -- 汇总 ---------------------------------------------------------------------
def test_summary_page_and_downloads(client, desk):
    roster_upload(client, desk.roster)
    upload(client, *(desk.returns[k] for k in ("good", "tampered", "blank", "hostile")))
    r = client.get(f"/summary?year={YEAR}")
    assert r.status_code == 200 and r.text.count("<svg") == 2 and "各等次单位数" in r.text
    x = client.get(f"/summary/{YEAR}/district.xlsx")
    assert x.status_code == 200 and "filename*=UTF-8''" in x.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(x.content))
    names = [row[1] for row in wb["汇总"].iter_rows(min_row=1, values_only=True)]
    assert HOSTILE_NAME in names or any(HOSTILE_NAME == n for n in names if isinstance(n, str))
    filtered = openpyxl.load_workbook(io.BytesIO(client.get(f"/summary/{YEAR}/district.xlsx?q=200009").content))
    assert sum(1 for row in filtered["汇总"].iter_rows(values_only=True) if row[0] == "200009") == 1
    assert not any(row[0] == "900001" for row in filtered["汇总"].iter_rows(values_only=True))
    c = client.get(f"/summary/{YEAR}/district.csv")
    with zipfile.ZipFile(io.BytesIO(c.content)) as zf:
        assert "汇总.csv" in zf.namelist()
    assert client.get(f"/summary/{YEAR}/district.pdf").status_code == 404


# -- 安全 ---------------------------------------------------------------------
def test_password_login_logout(tmp_path):
    c = make_client(tmp_path, password="s3cret")
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert c.post("/upload", data={}).status_code == 401
    page = c.get("/login").text
    r = c.post("/login", data={"csrf": csrf_of(page), "name": "张三", "password": "wrong"})
    assert r.status_code == 401 and "密码不正确" in r.text
    assert c.post("/login", data={"name": "张三", "password": "s3cret"}).status_code == 403
    r = c.post("/login", data={"csrf": csrf_of(page), "name": "张三", "password": "s3cret"})
    assert r.status_code == 200 and "张三" in r.text and "回收台账" in r.text
    r = c.post("/logout", data={"csrf": csrf_of(r.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 303
    forged = make_client(tmp_path / "f", password="s3cret")
    forged.cookies.set("jixiao_session", "eyJjc3JmIjoieCIsInVzZXIiOiJ4In0.forged.sig")
    assert forged.get("/", follow_redirects=False).status_code == 303


def test_content_disposition_names():
    h = content_disposition('../../2021年度"汇总";.xlsx')
    assert h.startswith('attachment; filename="')
    assert "filename*=UTF-8''2021%E5%B9%B4%E5%BA%A6_%E6%B1%87%E6%80%BB_.xlsx" in h
    assert ".." not in h.split("filename*=")[1] and "/" not in h


def crash_on_second(path, time_limit=60):
    """Worker stand-in: the process checking the second uploaded file dies (as on a segfault)."""
    import os

    if path.endswith("00001.upload"):
        os._exit(3)
    return REAL_CHECK(path, time_limit)


def test_worker_crash_costs_only_that_file(client, desk, monkeypatch):
    monkeypatch.setattr(batchread, "check_file", crash_on_second)
    r = upload(client, desk.returns["good"], desk.returns["tampered"], desk.returns["blank"])
    assert r.status_code == 200
    assert fates(r.text) == ["新收", "拒收", "新收"]
    assert "解析进程异常终止" in r.text


def test_summary_built_in_background_with_progress(client, desk):
    upload(client, desk.returns["good"], desk.returns["tampered"])
    r = client.post(f"/summary/{YEAR}/jobs", data={"csrf": token(client), "kind": "xlsx", "q": "200009"},
                    follow_redirects=False)
    assert r.status_code == 303
    job_url = r.headers["location"]
    for _ in range(200):
        page = client.get(job_url)
        if "已生成" in page.text or "生成失败" in page.text:
            break
        assert "<progress" in page.text and 'http-equiv="refresh"' in page.text
        time.sleep(0.05)
    assert "已生成" in page.text
    x = client.get(job_url + "/file")
    assert x.status_code == 200 and "filename*=UTF-8''" in x.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(x.content))
    codes = [row[0] for row in wb["汇总"].iter_rows(min_row=2, values_only=True)]
    assert "200009" in codes and "900001" not in codes
    partial = client.get(job_url, headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="job"')
    assert client.get("/summary/jobs/nope").status_code == 404
    assert client.get("/summary/jobs/nope/file").status_code == 404
    assert client.post(f"/summary/{YEAR}/jobs", data={"csrf": token(client), "kind": "pdf"}).status_code == 400
    assert client.post(f"/summary/{YEAR}/jobs", data={"kind": "xlsx"}).status_code == 403


def test_job_files_removed_when_the_desk_stops(tmp_path, desk):
    import tempfile
    from pathlib import Path

    before = set(Path(tempfile.gettempdir()).glob("jixiao-job-*"))
    with make_client(tmp_path, desk) as c:
        upload(c, desk.returns["good"])
        url = c.post(f"/summary/{YEAR}/jobs", data={"csrf": token(c), "kind": "csv"}, follow_redirects=False) \
            .headers["location"]
        for _ in range(200):
            if "已生成" in c.get(url).text:
                break
            time.sleep(0.05)
        made = set(Path(tempfile.gettempdir()).glob("jixiao-job-*")) - before
        assert len(made) == 1 and c.get(url + "/file").status_code == 200
    assert not next(iter(made)).exists()


def test_security_headers_and_host_check(tmp_path):
    c = make_client(tmp_path, allowed_hosts=["127.0.0.1", "localhost"])
    r = c.get("/", headers={"host": "evil.example"})
    assert r.status_code == 400 and "不接受主机名" in r.text
    r = c.get("http://127.0.0.1/")
    assert r.status_code == 200
    assert r.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


@pytest.mark.parametrize("url", [
    "/?year=abc", "/?year=2021&sort=<script>&desc=x&state=%00&q=" + "长" * 500, "/?year=99999",
    "/board/2021/export.csv?grade=<b>", "/board/0/chase.csv", "/unit/2021/%3Cscript%3E", "/unit/abc/200009",
    "/unit/2021/200009/notice", "/unit/2021/200009/compare?a=x&b=y", "/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/tasks?year=-1", "/tasks?year=2021%20OR%201=1", "/summary?year=x", "/summary/2021/district.exe",
    "/summary/jobs/%2e%2e", "/audit?year=x", "/audit.csv?year=1999", "/static/../app.py", "/login",
])
def test_bad_parameters_never_500(client, url):
    r = client.get(url)
    assert r.status_code < 500, r.text[:300]
    if r.status_code >= 400:
        assert re.search(r"[\u4e00-\u9fff]", r.text), "error pages are in Chinese"


@pytest.mark.parametrize("url", ["/upload", "/board/2021/bulk", "/unit/2021/200009/review", "/tasks/roster",
                                 "/tasks/2021/generate", "/tasks/2022/copy-roster", "/summary/2021/jobs", "/login",
                                 "/logout"])
def test_every_post_needs_the_csrf_token(client, url):
    r = client.post(url, data={"action": "approve", "year": "2021", "kind": "xlsx"})
    assert r.status_code == 403 and "CSRF" in r.text


def test_forged_return_is_held_not_current(client, desk, tmp_path):
    """A workbook this store never issued (wrong key, unknown return_id) is 待核实 and never current."""
    from workbook.generate import WorkbookFactory
    from workbook.synthetic import synthetic_inputs, with_notes

    assert roster_upload(client, desk.roster).status_code == 200
    forged = tmp_path / "900004-forged.xlsx"
    forged.write_bytes(WorkbookFactory(key="00" * 32).build(desk.units["silent"],
                                                            with_notes(synthetic_inputs(__import__("random").Random(1)))))
    r = upload(client, forged)
    assert fates(r.text) == ["待核实"]
    assert re.search(r'<td class="reason">[^<]+</td>', r.text)  # the reason it is held is shown
    rows = client.get(f"/?year={YEAR}&state=待核实").text
    assert '<a href="/unit/2021/900004">' in rows
    chase = client.get(f"/board/{YEAR}/chase.csv").content.decode("utf-8-sig")
    assert "900004" in chase and "报表身份待核实" in chase


def test_upload_orders_versions_by_the_senders_save_time(client, desk):
    """Two versions in one drop: the browser's lastModified decides which is current, not the order in the list."""
    later, earlier = "1700000000000", "1690000000000"
    files = [("files", (p.name, p.read_bytes())) for p in (desk.returns["corrected"], desk.returns["blank"])]
    r = client.post("/upload", data={"csrf": token(client), "mtimes": [later, earlier]}, files=files)
    assert fates(r.text) == ["新收", "旧版本"]
    with Store(client.app.state.settings.db) as s:
        current = s.db.execute("SELECT source_path FROM submissions WHERE is_current = 1 AND budget_code = '900002'")
        assert current.fetchone()[0] == desk.returns["corrected"].name
