"""回收台账: the board with counts, filters, search and sort; CSV exports; bulk approval."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from workbook import board as boardlib
from workbook import review, rosters
from workbook.status import HELD, MISSING, PASSED
from workbook.template import default_template

from ..downloads import csv_download
from ..security import HTTPError, checked_form
from .common import FILTERS, REVIEWS, STATES, Desk, year_param


def routes(desk: Desk) -> list[Route]:
    settings, render, who = desk.settings, desk.render, desk.who

    def board_page(request: Request) -> Response:
        with settings.store() as store:
            year = year_param(request.query_params.get("year"), False) or desk.default_year(store)
            rows, shown = desk.selected_rows(store, year, request.query_params)
            years = sorted(set(rosters.years(store)) | {year}, reverse=True)
        depts = sorted({r.parent_dept for r in rows if r.parent_dept})
        params = {k: request.query_params.get(k, "") for k in FILTERS}
        query = "&".join(f"{k}={v}" for k, v in params.items() if v)
        return render(request, "board.html", year=year, years=years, rows=shown, total_rows=len(rows),
                      counts=boardlib.counts(rows),
                      eligible=sum(1 for r in shown if r.review == review.PENDING and not r.errors),
                      state_label={PASSED: "核验通过"}, depts=depts, states=STATES,
                      grades=[g for _, g in default_template().grade_bands], reviews=REVIEWS, f=params, filter_query=query)

    def board_csv(request: Request) -> Response:
        year = year_param(request.path_params["year"])
        with settings.store() as store:
            _, shown = desk.selected_rows(store, year, request.query_params)
        header = ["预算编码", "单位名称", "主管部门", "状态", "总分", "等次", "自报总分", "错误", "警告", "未说明警告",
                  "报送次数", "最后报送", "审核"]
        return csv_download(header, ([r.budget_code, r.unit_name, r.parent_dept, r.state, r.total, r.grade,
                                      r.claimed_total, r.errors, r.warnings, r.unexplained_warnings, r.submissions,
                                      r.last_upload, r.review + ("（有变更）" if r.changed else "")] for r in shown),
                            f"{year}年度回收台账.csv")

    def chase_csv(request: Request) -> Response:
        year = year_param(request.path_params["year"])
        with settings.store() as store:
            rows = [r for r in boardlib.board(store, year) if r.state in (MISSING, HELD) or r.review == review.RETURNED]
        why = {MISSING: "未报送", HELD: "报表身份待核实"}
        return csv_download(["预算编码", "单位名称", "主管部门", "情况"],
                            ([r.budget_code, r.unit_name, r.parent_dept, why.get(r.state, "已退回待重报")]
                             for r in rows), f"{year}年度催报名单.csv")

    async def board_bulk(request: Request) -> Response:
        form = await checked_form(request)
        year = year_param(request.path_params["year"])
        action = str(form.get("action") or "")
        if action != review.APPROVE:
            raise HTTPError(400, "批量操作只支持“通过”（退回须逐个填写原因）")
        comment = str(form.get("comment") or "批量通过").strip()

        def work() -> tuple[int, int]:
            done = skipped = 0
            with settings.store() as store:
                _, shown = desk.selected_rows(store, year, form)
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

    return [
        Route("/", board_page),
        Route("/board/{year}/export.csv", board_csv),
        Route("/board/{year}/chase.csv", chase_csv),
        Route("/board/{year}/bulk", board_bulk, methods=["POST"]),
    ]
