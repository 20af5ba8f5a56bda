"""The Starlette application: middleware, error pages, routes."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import pages
from .jobs import Jobs
from .security import HTTPError, SessionMiddleware, csrf_token
from .settings import Settings

HERE = Path(__file__).resolve().parent


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["score"] = lambda v: "" if v is None else f"{v:g}" if isinstance(v, (int, float)) else str(v)
    env.filters["when"] = _when
    return env


def create_app(settings: Settings) -> Starlette:
    env = _env()

    def render(request: Request, template: str, status: int = 200, /, **ctx) -> HTMLResponse:
        session = request.scope.get("session") or {}
        ctx.setdefault("year", None)
        html = env.get_template(template).render(request=request, csrf=csrf_token(request), user=session.get("user"),
                                             login=bool(settings.password), **ctx)
        return HTMLResponse(html, status_code=status)

    async def http_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPError):
            status, message = exc.status, exc.message
        elif isinstance(exc, HTTPException):
            status = exc.status_code
            message = {404: "页面不存在", 405: "不支持的请求方式"}.get(status, str(exc.detail))
        else:
            status, message = 500, f"内部错误（{type(exc).__name__}），请把操作步骤告诉维护人员"
        if "session" not in request.scope:
            return PlainTextResponse(message, status_code=status)
        if request.headers.get("hx-request"):
            return HTMLResponse(f'<div class="flash error" role="alert">{_esc(message)}</div>', status_code=status)
        return render(request, "error.html", status, message=message, status=status)

    jobs = Jobs()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        jobs.close()  # background downloads do not outlive the desk

    app = Starlette(routes=pages.routes(settings, render, jobs) + [
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static")],
        exception_handlers={HTTPError: http_error, HTTPException: http_error, Exception: http_error},
        lifespan=lifespan)
    app.add_middleware(SessionMiddleware, settings=settings)
    app.state.settings = settings
    return app


LOCAL_TZ = dt.datetime.now().astimezone().tzinfo


@lru_cache(maxsize=4096)
def _when(value: str | None) -> str:
    """A stored UTC timestamp in the server's local time, to the minute."""
    if not value:
        return ""
    try:
        return dt.datetime.fromisoformat(value).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


def _esc(text: str) -> str:
    from html import escape

    return escape(text)


__all__ = ["create_app", "Route"]
