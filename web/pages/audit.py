"""审核日志: the append-only log, on screen and as CSV."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from workbook import review

from ..downloads import csv_download
from .common import Desk, year_param


def routes(desk: Desk) -> list[Route]:
    settings, render = desk.settings, desk.render

    def audit_page(request: Request) -> Response:
        with settings.store() as store:
            year = year_param(request.query_params.get("year"), False)
            log = review.entries(store, year, None, 2000)
        return render(request, "audit.html", year=year, log=log)

    def audit_csv(request: Request) -> Response:
        with settings.store() as store:
            year = year_param(request.query_params.get("year"), False)
            log = review.entries(store, year)
        return csv_download(["时间", "操作人", "操作", "年度", "预算编码", "报送编号", "文件 SHA-256", "内容"],
                            ([e["at"], e["who"], e["action_zh"], e["year"], e["budget_code"], e["submission_id"],
                              e["sha256"], e["detail"]] for e in log), "审核日志.csv")

    return [
        Route("/audit", audit_page),
        Route("/audit.csv", audit_csv),
    ]
