"""Sessions in signed cookies, CSRF tokens, login, and a cap on request bodies."""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "jixiao_session"
OPEN_PATHS = ("/login", "/static/")
HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                 b"script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"),
]


class HTTPError(Exception):
    """An error page with a Chinese message and an HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class BodyTooLarge(Exception):
    pass


def serializer(secret: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="jixiao-session")


def password_ok(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class SessionMiddleware:
    """Loads the signed session cookie into scope['session'], issues one (with a CSRF token) when missing,
    sends visitors to /login when a password is set, and caps request bodies."""

    def __init__(self, app: ASGIApp, settings: Any):
        self.app = app
        self.settings = settings
        self.ser = serializer(settings.secret)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        hosts = self.settings.allowed_hosts
        if hosts and request.url.hostname not in hosts:  # DNS rebinding: a web page posing as this machine
            await PlainTextResponse(f"不接受主机名“{request.url.hostname}”的访问，请用 http://127.0.0.1 打开工作台",
                                    status_code=400)(scope, receive, send)
            return
        session: dict[str, Any] | None = None
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                session = self.ser.loads(raw, max_age=self.settings.session_hours * 3600)
            except BadSignature:
                session = None
        fresh = not isinstance(session, dict) or "csrf" not in session
        if fresh:
            session = {"csrf": secrets.token_urlsafe(32)}
        scope["session"] = session
        path = scope["path"]
        if self.settings.password and not session.get("user") and not path.startswith(OPEN_PATHS):
            if scope["method"] in ("GET", "HEAD"):
                response = RedirectResponse("/login", status_code=303)
            else:
                response = PlainTextResponse("请先登录", status_code=401)
            self._set_cookie(response, session, fresh)
            await response(scope, receive, send)
            return
        length = request.headers.get("content-length")
        limit = self.settings.max_request
        if length and length.isdigit() and int(length) > limit:
            response = PlainTextResponse(f"上传内容过大（{int(length) / 1048576:.1f} MiB），每次最多 "
                                         f"{limit // 1048576} MiB；请分批上传", status_code=413)
            await response(scope, receive, send)
            return
        received = 0
        started = time.perf_counter()

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                timing = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
                message["headers"] = [h for h in message.get("headers", []) if h[0].lower() != b"x-content-type-options"] \
                    + HEADERS + [(b"server-timing", timing.encode())]
                current = scope.get("session")
                if fresh or scope.get("session_dirty"):
                    value = self.ser.dumps(current or {})
                    header = (f"{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; "
                              f"Max-Age={self.settings.session_hours * 3600}")
                    message["headers"] = list(message["headers"]) + [(b"set-cookie", header.encode("latin-1"))]
            await send(message)

        await self.app(scope, limited_receive, send_with_cookie)

    def _set_cookie(self, response: Any, session: dict[str, Any], fresh: bool) -> None:
        if fresh:
            response.set_cookie(COOKIE, self.ser.dumps(session), httponly=True, samesite="strict",
                                max_age=self.settings.session_hours * 3600)


def set_session(request: Request, **values: Any) -> None:
    """Change the session (a new CSRF token too); the cookie is re-signed on the way out."""
    session = dict(request.scope.get("session") or {})
    session.update(values)
    session["csrf"] = secrets.token_urlsafe(32)
    request.scope["session"] = session
    request.scope["session_dirty"] = True


def clear_session(request: Request) -> None:
    request.scope["session"] = {"csrf": secrets.token_urlsafe(32)}
    request.scope["session_dirty"] = True


def csrf_token(request: Request) -> str:
    return request.scope["session"]["csrf"]


async def checked_form(request: Request, max_files: int = 1000) -> FormData:
    """The request's form after checking its CSRF token; a clear error for oversized or malformed bodies."""
    try:
        form = await request.form(max_files=max_files, max_fields=200)
    except BodyTooLarge:
        raise HTTPError(413, "上传内容过大，请分批上传") from None
    except HTTPError:
        raise
    except Exception as exc:  # noqa: BLE001 - any multipart parser complaint is the client's bad request
        detail = str(getattr(exc, "detail", None) or exc)
        if "Too many files" in detail:
            raise HTTPError(413, f"一次最多上传 {max_files} 个文件，请分批上传") from None
        raise HTTPError(400, f"无法解析提交的表单（{detail}）") from None
    token = request.headers.get("x-csrf-token") or form.get("csrf")
    if not isinstance(token, str) or not hmac.compare_digest(token, csrf_token(request)):
        raise HTTPError(403, "安全校验失败（CSRF 令牌缺失或已过期）：请刷新页面后重试")
    return form
