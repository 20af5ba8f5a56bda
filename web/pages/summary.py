"""汇总: charts, and the district workbook / CSV built now or in the background with progress."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from workbook import review, rosters
from workbook.consolidate import build_tables, write_csvs, write_workbook

from ..downloads import XLSX, file_download
from ..jobs import Job
from ..security import HTTPError, checked_form
from ..svg import bar_chart, grade_colors
from .common import FILTERS, Desk, year_param


def routes(desk: Desk) -> list[Route]:
    settings, render, who = desk.settings, desk.render, desk.who

    def summary_tables(store, year: int, params: Any, job: Job | None = None):
        roster = rosters.load_roster(store, year)
        filtered = any(params.get(k) for k in FILTERS if k not in ("sort", "desc"))
        codes = {r.budget_code for r in desk.selected_rows(store, year, params)[1]} if filtered else None

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
            year = year_param(request.query_params.get("year"), False) or desk.default_year(store)
            tables, filtered = summary_tables(store, year, request.query_params)
            years = sorted(set(rosters.years(store)) | {year}, reverse=True)
        if tables.findings is not None:
            tables.findings.close()  # the page shows no findings: drop their spool file now
        grade_svg = bar_chart(list(tables.grade_counts.items()), "各等次单位数", colors=grade_colors(tables.grades))
        hist_svg = bar_chart(tables.score_bins, "总分分布（复算）")
        query = "&".join(f"{k}={request.query_params[k]}" for k in FILTERS if request.query_params.get(k))
        dept = tables.frames["分部门汇总"]
        return render(request, "summary.html", year=year, years=years, grade_svg=grade_svg, hist_svg=hist_svg,
                      units=len(tables.frames["汇总"]), excluded=tables.excluded, dept_rows=dept.to_dict("records"), dept_cols=list(dept.columns),
                      filtered=filtered, filter_query=query, filter_keys=FILTERS)

    def build_summary(year: int, params: Any, kind: str, user: str, folder: Path,
                      job: Job | None = None) -> tuple[Path, str, str]:
        """The district workbook (or CSV zip) of the year, or of the board's filter, written into `folder`."""
        with settings.store() as store:
            total = store.db.execute("SELECT COUNT(*) FROM submissions WHERE status = 'accepted' AND is_current = 1 "
                                     "AND year = ? AND project_key = ''", (year,)).fetchone()[0]
            if job:
                job.progress(0, total, "正在读取报表")
            tables, filtered = summary_tables(store, year, params, job)
            review.log(store, "consolidate", user, year=year, detail=kind + ("（筛选）" if filtered else ""))
        if job:
            job.progress(total, total, "正在写入文件")
        label = f"{year}年度绩效自评汇总" + ("（筛选）" if filtered else "")
        try:
            if kind == "xlsx":
                return write_workbook(tables, folder / "district.xlsx"), label + ".xlsx", XLSX
            out = folder / "csv.zip"
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
                for p in write_csvs(tables, folder / "csv"):
                    zf.write(p, p.name)
            return out, label + "（CSV）.zip", "application/zip"
        finally:
            if tables.findings is not None:
                tables.findings.close()

    def summary_download(request: Request) -> Response:
        year, kind = year_param(request.path_params["year"]), request.path_params["kind"]
        if kind not in ("xlsx", "csv"):
            raise HTTPError(404, "没有这种汇总格式")
        tmp = Path(tempfile.mkdtemp(prefix="jixiao-summary-"))
        path, name, media = build_summary(year, request.query_params, kind, who(request), tmp)
        return file_download(path, name, media, cleanup=tmp)

    async def summary_job_start(request: Request) -> Response:
        form = await checked_form(request)
        year, kind = year_param(request.path_params["year"]), str(form.get("kind") or "")
        if kind not in ("xlsx", "csv"):
            raise HTTPError(400, "没有这种汇总格式")
        params = {k: str(form.get(k) or "") for k in FILTERS}
        user = who(request)
        job = desk.jobs.start(f"{year} 年度汇总（{'工作簿' if kind == 'xlsx' else 'CSV'}）",
                         lambda j: build_summary(year, params, kind, user, j.folder, j))
        if request.headers.get("hx-request"):
            return render(request, "job.html", job=job)
        return RedirectResponse(f"/summary/jobs/{job.id}", status_code=303)

    def the_job(request: Request) -> Job:
        job = desk.jobs.get(request.path_params["job"])
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

    return [
        Route("/summary", summary_page),
        Route("/summary/{year}/district.{kind}", summary_download),
        Route("/summary/{year}/jobs", summary_job_start, methods=["POST"]),
        Route("/summary/jobs/{job}", summary_job),
        Route("/summary/jobs/{job}/file", summary_job_file),
    ]
