"""Login and logout (only when the desk runs with a password)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..security import checked_form, clear_session, password_ok, set_session
from .common import Desk


def routes(desk: Desk) -> list[Route]:
    settings, render = desk.settings, desk.render

    def login_page(request: Request) -> Response:
        return render(request, "login.html")

    async def login_post(request: Request) -> Response:
        form = await checked_form(request)
        name = str(form.get("name") or "").strip()[:40]
        given = str(form.get("password") or "")
        if not settings.password:
            return RedirectResponse("/", status_code=303)
        if not name or not password_ok(given, settings.password):
            await asyncio.sleep(1)  # slows down guessing
            return render(request, "login.html", 401, error="姓名不能为空，或密码不正确", name=name)
        set_session(request, user=name)
        return RedirectResponse("/", status_code=303)

    async def logout_post(request: Request) -> Response:
        await checked_form(request)
        clear_session(request)
        return RedirectResponse("/login" if settings.password else "/", status_code=303)

    return [
        Route("/login", login_page),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", logout_post, methods=["POST"]),
    ]
