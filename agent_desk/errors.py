"""One error shape for every API: ``{"error": <stable id>, "message": <readable reason>}``.

Pages get the same refusals as pages: a missing login redirects to the login page and a
forbidden page renders a short Chinese explanation instead of JSON.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError

from agent_desk.auth.errors import Forbidden, NotAuthenticated
from backend.errors import CallCenterError, Conflict, NotFound, Refused


class ServiceUnavailable(CallCenterError):
    """A system the desk depends on (the PBX) cannot be reached right now."""

    code = "unavailable"


STATUS_BY_TYPE: dict[type[CallCenterError], int] = {
    ServiceUnavailable: 503,
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Refused: 422,
}


class ErrorBody(BaseModel):
    error: str
    message: str


def status_for(exc: CallCenterError) -> int:
    for kind, status in STATUS_BY_TYPE.items():
        if isinstance(exc, kind):
            return status
    return 400


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/api/", "/ws/", "/static/")) and request.method == "GET"


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
        status = status_for(exc)
        if _is_page(request) and status == 401:
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        if _is_page(request) and exc.code == "forbidden-login-incomplete":
            return RedirectResponse("/", status_code=303)  # "/" sends to the pending step
        if _is_page(request) and status == 403:
            return HTMLResponse(
                "<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>无权访问</title>"
                f"<body><h1>无权访问</h1><p>{escape(exc.message)}</p><p><a href='/'>返回首页</a></p></body></html>",
                status_code=403,
            )
        return JSONResponse(status_code=status, content={"error": exc.code, "message": exc.message})
