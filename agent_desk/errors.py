"""One error shape for every API: ``{"error": <stable id>, "message": <readable reason>}``.

Every domain error carries its own HTTP status (``CallCenterError.http_status``); the one
handler here answers with it. Pages get the same refusals as pages: a missing login
redirects to the login page and a forbidden page renders a short Chinese explanation
instead of JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError

from backend.errors import CallCenterError

# The partner APIs (the online channel, the hospitals) answer malformed input in the
# common error shape; the desk's own pages read FastAPI's ``detail`` list (common.js).
PARTNER_PREFIXES = ("/api/public/", "/api/hospital/")


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


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/api/", "/ws/", "/static/")) and request.method == "GET"


def _page_refusal(request: Request, exc: CallCenterError) -> Response | None:
    """The page's answer to a refused login or permission (None: answer as an API)."""
    if not _is_page(request):
        return None
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

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(PARTNER_PREFIXES):
            return invalid_request(exc.errors())
        return await request_validation_exception_handler(request, exc)
