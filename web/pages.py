"""Routes of the desk.  Each handler reads the request, calls the library, renders a template."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from workbook import board as boardlib
from workbook import hints, review, rosters
from workbook.consolidate import build_tables, write_csvs, write_workbook
from workbook.generate import WorkbookFactory
from workbook.generate.roster import RosterError, read_roster, safe_filename
from workbook.intake import Incoming, take_in
from workbook.status import ERRORS, MISSING, PASSED, UNEXPLAINED

from .downloads import XLSX, bytes_download, clean_name, csv_download, file_download
from .jobs import Job, Jobs
from .security import HTTPError, checked_form, clear_session, password_ok, set_session
from .settings import Settings
from .svg import COLORS, bar_chart

STATES = [MISSING, ERRORS, UNEXPLAINED, PASSED]
GRADES = ["优", "良", "中", "差"]
REVIEWS = [review.PENDING, review.APPROVED, review.RETURNED]
CODE = re.compile(r"[0-9A-Za-z_\-]{1,40}")
FILTERS = ("state", "dept", "grade", "review", "errors", "unexplained", "q", "sort", "desc")


def _year(value: Any, required: bool = True) -> int | None:
    text = str(value or "").strip()
    if not text:
        if required:
            raise HTTPError(400, "请指定年度")
        return None
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise HTTPError(400, f"年度“{text[:20]}”无效（应为 2000–2100 的四位数字）")
    return int(text)


def _code(value: str) -> str:
    if not CODE.fullmatch(value or ""):
        raise HTTPError(404, "预算编码无效")
    return value


def _filters(params: Any) -> dict[str, Any]:
    get = lambda k: str(params.get(k) or "").strip()[:100]  # noqa: E731
    return {"state": get("state"), "dept": get("dept"), "grade": get("grade"), "review_state": get("review"),
            "has_errors": get("errors") == "1", "unexplained": get("unexplained") == "1", "q": get("q"),
            "sort": get("sort") or "code", "descending": get("desc") == "1"}


def routes(settings: Settings, render: Callable[..., Response]) -> list[Route]:
    """All routes, closed over the desk's settings and the template renderer."""
    jobs = Jobs()

    def who(request: Request) -> str:
        return (request.scope.get("session") or {}).get("user") or settings.local_user

    def default_year(store) -> int:
        ys = rosters.years(store)
        return ys[0] if ys else dt.date.today().year - 1

    def selected_rows(store, year: int, params: Any) -> tuple[list[boardlib.BoardRow], list[boardlib.BoardRow]]:
        rows = boardlib.board(store, year)
        return rows, boardlib.select(rows, **_filters(params))

    # -- 回收台账 -----------------------------------------------------------
    def board_page(request: Request) -> Response:
        with settings.store() as store:
            year = _year(request.query_params.get("year"), False) or default_year(store)
            rows, shown = selected_rows(store, year, request.query_params)
            years = sorted(set(rosters.years(store)) | {year}, reverse=True)
        depts = sorted({r.parent_dept for r in rows if r.parent_dept})
        params = {k: request.query_params.get(k, "") for k in FILTERS}
        query = "&".join(f"{k}={v}" for k, v in params.items() if v)
        return render(request, "board.html", year=year, years=years, rows=shown, total_rows=len(rows),
                      counts=boardlib.counts(rows), shown_counts=boardlib.counts(shown), depts=depts, states=STATES,
                      grades=GRADES, reviews=REVIEWS, f=params, filter_query=query,
                      partial=bool(request.headers.get("hx-request")) and not request.headers.get("hx-boosted"))

    def board_csv(request: Request) -> Response:
        year = _year(request.path_params["year"])
        with settings.store() as store:
            _, shown = selected_rows(store, year, request.query_params)
        header = ["预算编码", "单位名称", "主管部门", "状态", "总分", "等次", "自报总分", "错误", "警告", "未说明警告",
                  "报送次数", "最后报送", "审核"]
        return csv_download(header, ([r.budget_code, r.unit_name, r.parent_dept, r.state, r.total, r.grade,
                                      r.claimed_total, r.errors, r.warnings, r.unexplained_warnings, r.submissions,
                                      r.last_upload, r.review + ("（有变更）" if r.changed else "")] for r in shown),
                            f"{year}年度回收台账.csv")

    def chase_csv(request: Request) -> Response:
        year = _year(request.path_params["year"])
        with settings.store() as store:
            rows = [r for r in boardlib.board(store, year) if r.state == MISSING or r.review == review.RETURNED]
        return csv_download(["预算编码", "单位名称", "主管部门", "情况"],
                            ([r.budget_code, r.unit_name, r.parent_dept, "未报送" if r.state == MISSING else "已退回待重报"]
                             for r in rows), f"{year}年度催报名单.csv")

    async def board_bulk(request: Request) -> Response:
        form = await checked_form(request)
        year = _year(request.path_params["year"])
        action = str(form.get("action") or "")
        if action != review.APPROVE:
            raise HTTPError(400, "批量操作只支持“通过”（退回须逐个填写原因）")
        comment = str(form.get("comment") or "批量通过").strip()

        def work() -> tuple[int, int]:
            done = skipped = 0
            with settings.store() as store:
                _, shown = selected_rows(store, year, form)
                for r in shown:
                    if r.review != review.PENDING or r.errors:
                        skipped += 1
                        continue
                    try:
                        review.decide(store, year, r.budget_code, review.APPROVE, who(request), comment, r.submission_id)
                        done += 1
                    except review.ReviewError:
                        skipped += 1
            return done, skipped

        done, skipped = await run_in_threadpool(work)
        query = "&".join(f"{k}={form.get(k)}" for k in FILTERS if form.get(k))
        return RedirectResponse(f"/?year={year}&{query}&msg=bulk-{done}-{skipped}", status_code=303)

    # -- 收表 --------------------------------------------------------------
    def upload_page(request: Request) -> Response:
        return render(request, "upload.html", max_file=settings.max_file // 1048576, batch=settings.upload_batch,
                      max_request=settings.max_request // 1048576, max_files=settings.max_files)

    async def upload_post(request: Request) -> Response:
        form = await checked_form(request, max_files=settings.max_files)
        uploads = [u for u in form.getlist("files") if isinstance(u, UploadFile)]
        uploads = [u for u in uploads if u.filename or u.size]
        if not uploads:
            raise HTTPError(400, "没有选择文件：请选择或拖入报回的 .xlsx 文件（或它们的 .zip 压缩包）")
        incoming: list[Incoming] = []
        for u in uploads:
            name = clean_name(u.filename or "", "未命名文件")
            if u.size is not None and u.size > settings.max_file and not name.lower().endswith(".zip"):
                incoming.append(Incoming(name, None, f"文件过大（{u.size / 1048576:.1f} MB，每个文件最多 "
                                                     f"{settings.max_file // 1048576} MB）"))
                continue
            data = await u.read()
            if name.lower().endswith(".zip"):
                from workbook.intake import expand_zip

                incoming.extend(expand_zip(name, data, settings.max_file, settings.max_files))
            elif len(data) > settings.max_file:
                incoming.append(Incoming(name, None, "文件过大"))
            else:
                incoming.append(Incoming(name, data))
        if len(incoming) > settings.max_files:
            raise HTTPError(413, f"一次最多上传 {settings.max_files} 个文件（本次 {len(incoming)} 个），请分批上传")
        dry = form.get("dry_run") == "1"
        user = who(request)

        def work():
            with settings.store() as store:
                return take_in(incoming, store, settings.originals, user, dry_run=dry, workers=settings.workers)

        fates = await run_in_threadpool(work)
        template = "upload_results.html" if request.headers.get("hx-request") else "upload.html"
        return render(request, template, fates=fates, dry_run=dry, max_file=settings.max_file // 1048576,
                      batch=settings.upload_batch,
                      max_request=settings.max_request // 1048576, max_files=settings.max_files)

    # -- 单位详情 ----------------------------------------------------------
    def unit_data(store, year: int, code: str) -> dict[str, Any]:
        roster = {u.budget_code: u for u in rosters.load_roster(store, year) or []}
        history = store.history(code, year)
        if not history and code not in roster:
            raise HTTPError(404, f"{year} 年度没有预算编码为 {code} 的单位")
        current = next((h for h in history if h["is_current"] and h["status"] == "accepted"), None)
        unit = roster.get(code)
        return {"code": code, "unit": unit, "history": list(reversed(history)), "current": current,
                "review": review.review_of(store, year, code), "log": review.entries(store, year, code, 200),
                "hints": hints.hints(store, current) if current else [],
                "name": (unit.unit_name if unit else None) or (current or history[-1])["unit_name"] or code}

    def unit_page(request: Request) -> Response:
        year, code = _year(request.path_params["year"]), _code(request.path_params["code"])
        with settings.store() as store:
            data = unit_data(store, year, code)
        return render(request, "unit.html", year=year, **data, msg=request.query_params.get("msg", ""))

    async def unit_review(request: Request) -> Response:
        form = await checked_form(request)
        year, code = _year(request.path_params["year"]), _code(request.path_params["code"])
        action = str(form.get("action") or "")
        sub = str(form.get("submission_id") or "")

        def work() -> None:
            with settings.store() as store:
                try:
                    review.decide(store, year, code, action, who(request), str(form.get("reason") or ""),
                                  int(sub) if sub.isdigit() else None)
                except review.ReviewError as exc:
                    raise HTTPError(exc.status, exc.message) from None

        await run_in_threadpool(work)
        return RedirectResponse(f"/unit/{year}/{code}?msg={action}", status_code=303)

    def unit_notice(request: Request) -> Response:
        year, code = _year(request.path_params["year"]), _code(request.path_params["code"])
        with settings.store() as store:
            data = unit_data(store, year, code)
        if data["review"].state != review.RETURNED:
            raise HTTPError(409, "该单位当前报表未被退回，没有退回通知")
        return render(request, "notice.html", year=year, **data)

    def unit_compare(request: Request) -> Response:
        year, code = _year(request.path_params["year"]), _code(request.path_params["code"])
        a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
        with settings.store() as store:
            data = unit_data(store, year, code)
        by_id = {str(h["id"]): h for h in data["history"] if h["status"] == "accepted"}
        if a not in by_id or b not in by_id:
            raise HTTPError(404, "要比较的报送版本不存在")
        return render(request, "compare.html", year=year, **data, diff=hints.compare(by_id[a], by_id[b]),
                      a=by_id[a], b=by_id[b])

    def original(request: Request) -> Response:
        sha = request.path_params["sha"]
        data = settings.originals.get(sha)
        if data is None:
            raise HTTPError(404, "原件不存在")
        with settings.store() as store:
            row = store.db.execute("SELECT source_path FROM submissions WHERE sha256 = ?", (sha,)).fetchone()
        name = clean_name(row["source_path"] if row else "", f"{sha[:12]}.xlsx")
        return bytes_download(data, name, XLSX)

    # -- 年度任务 ----------------------------------------------------------
    def tasks_page(request: Request, **extra: Any) -> Response:
        with settings.store() as store:
            year = _year(request.query_params.get("year") or request.path_params.get("year"), False) \
                or default_year(store)
            years = sorted(set(rosters.years(store)) | {year}, reverse=True)
            units = rosters.load_roster(store, year) or []
        return render(request, "tasks.html", year=year, years=years, units=units, **extra)

    async def roster_post(request: Request) -> Response:
        form = await checked_form(request)
        year = _year(form.get("year"))
        upload = form.get("roster")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise HTTPError(400, "请选择花名册文件（CSV 或 .xlsx）")
        suffix = Path(clean_name(upload.filename)).suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise HTTPError(415, f"花名册应为 .csv 或 .xlsx 文件（收到“{clean_name(upload.filename)}”）")
        data = await upload.read()
        if not data:
            raise HTTPError(400, "花名册文件是空的")
        if len(data) > settings.max_file:
            raise HTTPError(413, "花名册文件过大")
        name, user = clean_name(upload.filename), who(request)

        def work() -> list[str]:
            with tempfile.TemporaryDirectory(prefix="jixiao-roster-") as tmp:
                p = Path(tmp) / ("roster" + suffix)
                p.write_bytes(data)
                try:
                    units = read_roster(p, year)
                except RosterError as exc:
                    return exc.problems
            with settings.store() as store:
                rosters.save_roster(store, year, units)
                review.log(store, "roster", user, year=year, detail=f"{name}：{len(units)} 个单位")
            return []

        problems = await run_in_threadpool(work)
        if problems:
            request.scope["path_params"] = {"year": year}
            response = tasks_page(request, problems=problems, roster_name=name)
            response.status_code = 422
            return response
        return RedirectResponse(f"/tasks?year={year}&msg=roster", status_code=303)

    async def generate_post(request: Request) -> Response:
        form = await checked_form(request)
        year = _year(request.path_params["year"])
        code = str(form.get("code") or "")
        user = who(request)

        def work() -> Response:
            with settings.store() as store:
                units = rosters.load_roster(store, year)
                if not units:
                    raise HTTPError(409, f"{year} 年度还没有花名册，请先上传花名册")
                if code:
                    units = [u for u in units if u.budget_code == code]
                    if not units:
                        raise HTTPError(404, f"花名册中没有预算编码为 {code[:40]} 的单位")
                for u in units:
                    prior = store.prior_year_prefill(u.budget_code, year - 1)
                    if prior:
                        u.prefill = {**prior, **u.prefill}
                review.log(store, "generate", user, year=year, budget_code=code or None,
                           detail=f"{len(units)} 个单位")
            factory = WorkbookFactory()
            if code:
                return bytes_download(factory.build(units[0]), safe_filename(units[0]), XLSX)
            tmp = Path(tempfile.mkdtemp(prefix="jixiao-generate-"))
            out = tmp / "workbooks.zip"
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
                for u in units:
                    zf.writestr(safe_filename(u), factory.build(u))
            return file_download(out, f"{year}年度下发工作簿.zip", "application/zip", cleanup=tmp)

        return await run_in_threadpool(work)

    # -- 汇总 --------------------------------------------------------------
    def summary_tables(store, year: int, params: Any, job: Job | None = None):
        roster = rosters.load_roster(store, year)
        filtered = any(params.get(k) for k in FILTERS if k not in ("sort", "desc"))
        codes = {r.budget_code for r in selected_rows(store, year, params)[1]} if filtered else None

        def rows():
            for n, r in enumerate(store.iter_current(year), start=1):
                if job and n % 20 == 0:
                    job.done = n
                if codes is None or r["budget_code"] in codes:
                    yield r

        rows = rows()
        if codes is not None and roster is not None:
            roster = [u for u in roster if u.budget_code in codes]
        return build_tables(rows, year, roster), filtered

    def summary_page(request: Request) -> Response:
        with settings.store() as store:
            year = _year(request.query_params.get("year"), False) or default_year(store)
            tables, filtered = summary_tables(store, year, request.query_params)
            years = sorted(set(rosters.years(store)) | {year}, reverse=True)
        grade_svg = bar_chart(list(tables.grade_counts.items()), "各等次单位数", colors=COLORS)
        hist_svg = bar_chart(tables.score_bins, "总分分布（复算）")
        query = "&".join(f"{k}={request.query_params[k]}" for k in FILTERS if request.query_params.get(k))
        dept = tables.frames["分部门汇总"]
        return render(request, "summary.html", year=year, years=years, grade_svg=grade_svg, hist_svg=hist_svg,
                      units=len(tables.frames["汇总"]), dept_rows=dept.to_dict("records"), dept_cols=list(dept.columns),
                      filtered=filtered, filter_query=query, filter_keys=FILTERS)

    def build_summary(year: int, params: Any, kind: str, user: str, folder: Path,
                      job: Job | None = None) -> tuple[Path, str, str]:
        """The district workbook (or CSV zip) of the year, or of the board's filter, written into `folder`."""
        with settings.store() as store:
            total = store.db.execute("SELECT COUNT(*) FROM submissions WHERE status = 'accepted' AND is_current = 1 "
                                     "AND year = ?", (year,)).fetchone()[0]
            if job:
                job.progress(0, total, "正在读取报表")
            tables, filtered = summary_tables(store, year, params, job)
            review.log(store, "consolidate", user, year=year, detail=kind + ("（筛选）" if filtered else ""))
        if job:
            job.progress(total, total, "正在写入文件")
        label = f"{year}年度绩效自评汇总" + ("（筛选）" if filtered else "")
        if kind == "xlsx":
            return write_workbook(tables, folder / "district.xlsx"), label + ".xlsx", XLSX
        out = folder / "csv.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in write_csvs(tables, folder / "csv"):
                zf.write(p, p.name)
        return out, label + "（CSV）.zip", "application/zip"

    def summary_download(request: Request) -> Response:
        year, kind = _year(request.path_params["year"]), request.path_params["kind"]
        if kind not in ("xlsx", "csv"):
            raise HTTPError(404, "没有这种汇总格式")
        tmp = Path(tempfile.mkdtemp(prefix="jixiao-summary-"))
        path, name, media = build_summary(year, request.query_params, kind, who(request), tmp)
        return file_download(path, name, media, cleanup=tmp)

    async def summary_job_start(request: Request) -> Response:
        form = await checked_form(request)
        year, kind = _year(request.path_params["year"]), str(form.get("kind") or "")
        if kind not in ("xlsx", "csv"):
            raise HTTPError(400, "没有这种汇总格式")
        params = {k: str(form.get(k) or "") for k in FILTERS}
        user = who(request)
        job = jobs.start(f"{year} 年度汇总（{'工作簿' if kind == 'xlsx' else 'CSV'}）",
                         lambda j: build_summary(year, params, kind, user, j.folder, j))
        if request.headers.get("hx-request"):
            return render(request, "job.html", job=job)
        return RedirectResponse(f"/summary/jobs/{job.id}", status_code=303)

    def the_job(request: Request) -> Job:
        job = jobs.get(request.path_params["job"])
        if job is None:
            raise HTTPError(404, "没有这个任务（可能已过期，请重新生成）")
        return job

    def summary_job(request: Request) -> Response:
        job = the_job(request)
        return render(request, "job.html" if request.headers.get("hx-request") else "job_page.html", job=job)

    def summary_job_file(request: Request) -> Response:
        job = the_job(request)
        if job.state != "done" or job.path is None:
            raise HTTPError(409, "文件还没有生成完" if job.state == "running" else f"生成失败：{job.error}")
        return file_download(job.path, job.name, job.media_type)

    # -- 审核日志 ----------------------------------------------------------
    def audit_page(request: Request) -> Response:
        with settings.store() as store:
            year = _year(request.query_params.get("year"), False)
            log = review.entries(store, year, None, 2000)
        return render(request, "audit.html", year=year, log=log)

    def audit_csv(request: Request) -> Response:
        with settings.store() as store:
            year = _year(request.query_params.get("year"), False)
            log = review.entries(store, year)
        return csv_download(["时间", "操作人", "操作", "年度", "预算编码", "报送编号", "文件 SHA-256", "内容"],
                            ([e["at"], e["who"], e["action_zh"], e["year"], e["budget_code"], e["submission_id"],
                              e["sha256"], e["detail"]] for e in log), "审核日志.csv")

    # -- 登录 --------------------------------------------------------------
    def login_page(request: Request) -> Response:
        return render(request, "login.html")

    async def login_post(request: Request) -> Response:
        form = await checked_form(request)
        name = str(form.get("name") or "").strip()[:40]
        given = str(form.get("password") or "")
        if not settings.password:
            return RedirectResponse("/", status_code=303)
        if not name or not password_ok(given, settings.password):
            return render(request, "login.html", 401, error="姓名不能为空，或密码不正确", name=name)
        set_session(request, user=name)
        return RedirectResponse("/", status_code=303)

    async def logout_post(request: Request) -> Response:
        await checked_form(request)
        clear_session(request)
        return RedirectResponse("/login" if settings.password else "/", status_code=303)

    return [
        Route("/", board_page), Route("/board/{year}/export.csv", board_csv),
        Route("/board/{year}/chase.csv", chase_csv), Route("/board/{year}/bulk", board_bulk, methods=["POST"]),
        Route("/upload", upload_page), Route("/upload", upload_post, methods=["POST"]),
        Route("/unit/{year}/{code}", unit_page), Route("/unit/{year}/{code}/review", unit_review, methods=["POST"]),
        Route("/unit/{year}/{code}/notice", unit_notice), Route("/unit/{year}/{code}/compare", unit_compare),
        Route("/files/{sha}", original),
        Route("/tasks", tasks_page), Route("/tasks/roster", roster_post, methods=["POST"]),
        Route("/tasks/{year}/generate", generate_post, methods=["POST"]),
        Route("/summary", summary_page), Route("/summary/{year}/district.{kind}", summary_download),
        Route("/summary/{year}/jobs", summary_job_start, methods=["POST"]), Route("/summary/jobs/{job}", summary_job),
        Route("/summary/jobs/{job}/file", summary_job_file),
        Route("/audit", audit_page), Route("/audit.csv", audit_csv),
        Route("/login", login_page), Route("/login", login_post, methods=["POST"]),
        Route("/logout", logout_post, methods=["POST"]),
    ]
