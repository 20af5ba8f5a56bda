"""What every page module shares: the desk (settings, renderer, jobs), parameter checks, board filters."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from workbook import board as boardlib
from workbook import review, rosters
from workbook.status import ERRORS, HELD, MISSING, PASSED, UNEXPLAINED
from workbook.store import Store

from ..jobs import Jobs
from ..security import HTTPError
from ..settings import Settings

STATES = [MISSING, HELD, ERRORS, UNEXPLAINED, PASSED]
REVIEWS = [review.PENDING, review.APPROVED, review.RETURNED]
CODE = re.compile(r"[0-9A-Za-z_\-]{1,40}")
FILTERS = ("state", "dept", "grade", "review", "errors", "unexplained", "q", "sort", "desc")


@dataclass
class Desk:
    settings: Settings
    render: Callable[..., Response]
    jobs: Jobs = field(default_factory=Jobs)

    def who(self, request: Request) -> str:
        """The signed-in name, or the local user when the desk runs without a password."""
        return (request.scope.get("session") or {}).get("user") or self.settings.local_user

    @staticmethod
    def default_year(store: Store) -> int:
        ys = rosters.years(store)
        return ys[0] if ys else dt.date.today().year - 1

    @staticmethod
    def selected_rows(store: Store, year: int, params: Any) -> tuple[list[boardlib.BoardRow], list[boardlib.BoardRow]]:
        """All board rows of the year, and those the filter in `params` selects."""
        rows = boardlib.board(store, year)
        return rows, boardlib.select(rows, **filters_of(params))


def year_param(value: Any, required: bool = True) -> int | None:
    text = str(value or "").strip()
    if not text:
        if required:
            raise HTTPError(400, "请指定年度")
        return None
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise HTTPError(400, f"年度“{text[:20]}”无效（应为 2000–2100 的四位数字）")
    return int(text)


def code_param(value: str) -> str:
    if not CODE.fullmatch(value or ""):
        raise HTTPError(404, "预算编码无效")
    return value


def filters_of(params: Any) -> dict[str, Any]:
    get = lambda k: str(params.get(k) or "").strip()[:100]  # noqa: E731
    return {"state": get("state"), "dept": get("dept"), "grade": get("grade"), "review_state": get("review"),
            "has_errors": get("errors") == "1", "unexplained": get("unexplained") == "1", "q": get("q"),
            "sort": get("sort") or "code", "descending": get("desc") == "1"}
