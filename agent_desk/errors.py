"""One error shape for every API: ``{"error": <stable id>, "message": <readable reason>}``.

Every domain error carries its own HTTP status (``CallCenterError.http_status``); the one
handler here answers with it. Pages get the same refusals as pages: a missing login
redirects to the login page and a forbidden page renders a short Chinese explanation
instead of JSON.

An outage is mapped here too, once for every route: PostgreSQL or Redis gone (a refused or
dropped connection, a server starting up or shutting down, a timeout) raises whatever its
client raises, wherever the request was (the session look-up, a dependency, a route, the
booking fast path); ``outage_of`` recognises it and ``OutageAnswers`` answers 503 with
``Retry-After`` in the error shape (``database-unavailable`` / ``redis-unavailable``), and
pages with a "temporarily unavailable" page that reloads itself. Nothing is restarted: the
clients reconnect on their own when the server is back (``agent_desk.aio``, ``backend.db``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

import asyncpg
import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.errors import CallCenterError, ServiceUnavailable
from backend.redis_commands import RedisUnavailable

log = logging.getLogger(__name__)

# The partner APIs (the online channel, the hospitals) answer malformed input in the
# common error shape; the desk's own pages read FastAPI's ``detail`` list (common.js).
PARTNER_PREFIXES = ("/api/public/", "/api/hospital/")
# Everything else a browser GETs is a page.
API_PREFIXES = ("/api/", "/ws/", "/static/")


class ErrorBody(BaseModel):
    error: str
    message: str


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for a router whose errors have these statuses."""
    return {status: {"model": ErrorBody} for status in statuses}


def error_response(exc: CallCenterError) -> JSONResponse:
    """The error's JSON answer, with its status and headers (also used outside FastAPI's
    exception layer: the booking fast path, the body-size limit)."""
    return JSONResponse(
        status_code=exc.http_status,
        content={"error": exc.code, "message": exc.message},
        headers=exc.response_headers() or None,
    )


def invalid_request(errors: Sequence[Any]) -> JSONResponse:
    """422 naming the first few fields that failed validation and why."""
    parts = []
    for err in errors[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg', '')}")
    return JSONResponse(
        status_code=422,
        content={"error": "invalid-request", "message": "请求内容不正确：" + "；".join(parts)},
    )


HTTP_ERRORS = {
    400: ("bad-body", "请求体无法解析：须为UTF-8编码的JSON"),
    404: ("not-found", "没有这个接口地址"),
    405: ("method-not-allowed", "该接口地址不支持这个请求方法"),
}


def partner_http_error(exc: StarletteHTTPException) -> JSONResponse:
    """A partner API's answer to one of FastAPI's own HTTP refusals, in the common shape."""
    code, message = HTTP_ERRORS.get(exc.status_code, (f"http-{exc.status_code}", str(exc.detail)))
    return JSONResponse(
        status_code=exc.status_code,
        content={"error": code, "message": message},
        headers=getattr(exc, "headers", None),
    )


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(API_PREFIXES) and request.method == "GET"


def _page_refusal(request: Request, exc: CallCenterError) -> Response | None:
    """The page's answer to a refused login or permission (None: answer as an API)."""
    if not _is_page(request):
        return None
    if isinstance(exc, ServiceUnavailable):
        return outage_page(exc)
    if exc.http_status == 401:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    if exc.code == "forbidden-login-incomplete":
        return RedirectResponse("/", status_code=303)  # "/" sends to the pending step
    if exc.http_status == 403:
        return HTMLResponse(
            "<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>无权访问</title>"
            f"<body><h1>无权访问</h1><p>{escape(exc.message)}</p><p><a href='/'>返回首页</a></p></body></html>",
            status_code=403,
        )
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DataError)
    async def _bad_value(request: Request, exc: DataError) -> Response:
        # A value the database cannot hold (an id beyond its integer range) is the client's
        # mistake, whatever route it came through; the database has rolled it back.
        return JSONResponse(
            status_code=422, content={"error": "bad-value", "message": "参数值超出允许范围"}
        )

    @app.exception_handler(CallCenterError)
    async def _domain_error(request: Request, exc: CallCenterError) -> Response:
        return _page_refusal(request, exc) or error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI's own refusals (a body that is not UTF-8, an unknown path, a method the
        # route lacks) answer the partner APIs in the common shape too.
        if request.url.path.startswith(PARTNER_PREFIXES):
            return partner_http_error(exc)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(PARTNER_PREFIXES):
            return invalid_request(exc.errors())
        return await request_validation_exception_handler(request, exc)


# ----------------------------------------------------------------------------------------
# Outages: PostgreSQL or Redis unavailable

# What each client raises when its server is gone: refused or dropped connections, a server
# starting up or shutting down (asyncpg's class 57 "operator intervention"), timeouts.
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection came free: the database is stuck
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InterfaceError,
)
REDIS_DOWN: tuple[type[BaseException], ...] = (
    RedisUnavailable,
    redis.exceptions.ConnectionError,  # BusyLoadingError too: Redis still loading its data
    redis.exceptions.TimeoutError,
)
# A socket's own failure, under no client's name (asyncpg connecting, a reset connection).
NETWORK_DOWN: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)


class DatabaseUnavailable(ServiceUnavailable):
    code = "database-unavailable"


class RedisDown(ServiceUnavailable):
    code = "redis-unavailable"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what caused it, and the members of exception groups, depth first."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def outage_of(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 to answer when ``exc`` means PostgreSQL or Redis is unavailable, else None."""
    for cause in _causes(exc):
        if isinstance(cause, ServiceUnavailable):
            return cause
        if isinstance(cause, REDIS_DOWN):
            return RedisDown("服务暂时不可用（缓存服务连接中断），请稍后重试")
        if isinstance(cause, DATABASE_DOWN):
            return DatabaseUnavailable("服务暂时不可用（数据库连接中断），请稍后重试")
    for cause in _causes(exc):
        if isinstance(cause, NETWORK_DOWN):
            return _network_outage(cause)
    return None


# A socket error names no server: the module it was raised in does (asyncpg connecting).
DATABASE_CLIENTS = ("asyncpg", "psycopg", "sqlalchemy", "agent_desk.performance.fair_pool")
REDIS_CLIENTS = ("redis", "agent_desk.performance.pipelined_redis")


def _network_outage(exc: BaseException) -> ServiceUnavailable:
    modules = []
    tb = exc.__traceback__
    while tb is not None:
        modules.append(str(tb.tb_frame.f_globals.get("__name__", "")))
        tb = tb.tb_next
    if any(m.startswith(DATABASE_CLIENTS) for m in modules):
        return DatabaseUnavailable("服务暂时不可用（数据库连接中断），请稍后重试")
    if any(m.startswith(REDIS_CLIENTS) for m in modules):
        return RedisDown("服务暂时不可用（缓存服务连接中断），请稍后重试")
    return ServiceUnavailable("服务暂时不可用（后台服务连接中断），请稍后重试")


def outage_page(outage: ServiceUnavailable) -> HTMLResponse:
    """What a page shows while a server it needs is down; it reloads itself."""
    wait = outage.retry_after
    return HTMLResponse(
        "<!doctype html><html lang='zh-CN'><meta charset='utf-8'>"
        f"<meta http-equiv='refresh' content='{wait}'><title>服务暂时不可用</title>"
        "<body><h1 id='unavailable'>服务暂时不可用（temporarily unavailable）</h1>"
        f"<p>{escape(outage.message)}。本页将在 {wait} 秒后自动刷新。</p></body></html>",
        status_code=503,
        headers=outage.response_headers(),
    )


class OutageAnswers:
    """The app's outermost layer inside Starlette's error page: an outage raised anywhere
    below (the session look-up included) becomes 503, not Starlette's 500. ``headers``: what
    every other response carries (the security headers)."""

    def __init__(self, app: ASGIApp, headers: Sequence[tuple[str, str]] = ()) -> None:
        self.app = app
        self.headers = dict(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            outage = outage_of(exc)
            if outage is None or started:
                raise  # a bug stays a 500 (and a half-sent answer can only be cut)
            path = scope.get("path", "")
            log.warning("%s %s answered 503: %s", scope.get("method"), path, _first_line(exc))
            is_page = scope.get("method") == "GET" and not path.startswith(API_PREFIXES)
            response = outage_page(outage) if is_page else error_response(outage)
            response.headers.update(self.headers)
            await response(scope, receive, send)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
