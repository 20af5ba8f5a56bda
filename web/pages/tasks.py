"""年度任务: the year's roster (with row errors) and the generated workbooks (zip or one unit)."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from workbook import review, rosters
from workbook.form.roster import RosterError, read_roster, safe_filename

from ..downloads import XLSX, bytes_download, clean_name, file_download
from ..security import HTTPError, checked_form
from .common import Desk, year_param


def routes(desk: Desk) -> list[Route]:
    settings, render, who = desk.settings, desk.render, desk.who

    def tasks_page(request: Request, **extra: Any) -> Response:
        with settings.store() as store:
            year = year_param(request.query_params.get("year") or request.path_params.get("year"), False) \
                or desk.default_year(store)
            years = sorted(set(rosters.years(store)) | {year}, reverse=True)
            units = rosters.load_roster(store, year) or []
            earlier = [y for y in rosters.years(store) if y < year and rosters.load_roster(store, y)]
        return render(request, "tasks.html", year=year, years=years, units=units, copy_from=earlier[0] if earlier else None,
                      **extra)

    async def copy_post(request: Request) -> Response:
        form = await checked_form(request)
        year, source = year_param(request.path_params["year"]), year_param(form.get("from"))
        user = who(request)

        def work() -> int:
            with settings.store() as store:
                if rosters.load_roster(store, year):
                    raise HTTPError(409, f"{year} 年度已有花名册；如需替换，请上传新的花名册")
                n = rosters.copy_roster(store, source, year)
                if not n:
                    raise HTTPError(404, f"{source} 年度没有花名册可沿用")
                review.log(store, "roster", user, year=year, detail=f"沿用 {source} 年度花名册：{n} 个单位")
                return n

        await run_in_threadpool(work)
        return RedirectResponse(f"/tasks?year={year}&msg=roster", status_code=303)

    async def roster_post(request: Request) -> Response:
        form = await checked_form(request)
        year = year_param(form.get("year"))
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
        year = year_param(request.path_params["year"])
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
                if code:
                    unit, data = next(rosters.issue(store, units))
                    return bytes_download(data, safe_filename(unit), XLSX)
                tmp = Path(tempfile.mkdtemp(prefix="jixiao-generate-"))
                out = tmp / "workbooks.zip"
                with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
                    for unit, data in rosters.issue(store, units):
                        zf.writestr(safe_filename(unit), data)
            return file_download(out, f"{year}年度下发工作簿.zip", "application/zip", cleanup=tmp)

        return await run_in_threadpool(work)

    return [
        Route("/tasks", tasks_page),
        Route("/tasks/roster", roster_post, methods=["POST"]),
        Route("/tasks/{year}/generate", generate_post, methods=["POST"]),
        Route("/tasks/{year}/copy-roster", copy_post, methods=["POST"]),
    ]
