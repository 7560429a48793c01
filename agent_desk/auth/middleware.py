"""Puts the logged-in person on ``request.state.user`` for APIs that read it from there.

Only fully logged-in sessions count: a session still waiting for its second factor or for
the initial password change is nobody to the feature APIs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from agent_desk.auth.guard import COOKIE, get_desk


def install_session_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def _session_user(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        token = request.cookies.get(COOKIE, "")
        if token and not request.url.path.startswith("/static/"):
            session = get_desk(request).auth.sessions.get(token)
            if session is not None and session.ready:
                request.state.user = session
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
