"""单位详情: claimed vs recomputed, findings, 复核提示, history, originals; the review decision and notice."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from workbook import hints, review, rosters
from workbook.template import default_template

from ..downloads import XLSX, bytes_download, clean_name
from ..security import HTTPError, checked_form
from .common import Desk, code_param, year_param


def routes(desk: Desk) -> list[Route]:
    settings, render, who = desk.settings, desk.render, desk.who

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
                "name": (unit.unit_name if unit else None) or (current or history[-1])["unit_name"] or code,
                "score_sheet": default_template().form.sheet("score")}

    def unit_page(request: Request) -> Response:
        year, code = year_param(request.path_params["year"]), code_param(request.path_params["code"])
        with settings.store() as store:
            data = unit_data(store, year, code)
        return render(request, "unit.html", year=year, **data, msg=request.query_params.get("msg", ""))

    async def unit_review(request: Request) -> Response:
        form = await checked_form(request)
        year, code = year_param(request.path_params["year"]), code_param(request.path_params["code"])
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
        year, code = year_param(request.path_params["year"]), code_param(request.path_params["code"])
        with settings.store() as store:
            data = unit_data(store, year, code)
        if data["review"].state != review.RETURNED:
            raise HTTPError(409, "该单位当前报表未被退回，没有退回通知")
        return render(request, "notice.html", year=year, **data)

    def unit_compare(request: Request) -> Response:
        year, code = year_param(request.path_params["year"]), code_param(request.path_params["code"])
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

    return [
        Route("/unit/{year}/{code}", unit_page),
        Route("/unit/{year}/{code}/review", unit_review, methods=["POST"]),
        Route("/unit/{year}/{code}/notice", unit_notice),
        Route("/unit/{year}/{code}/compare", unit_compare),
        Route("/files/{sha}", original),
    ]
