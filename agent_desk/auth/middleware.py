"""Looks up the session of the request's cookie once (``caller_of`` takes it from there),
and adds the security headers every response carries.

A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's
``BaseHTTPMiddleware`` runs every request in an extra task and stream, which cost about a
millisecond of CPU per request on the busiest route (the online booking API).
"""

from __future__ import annotations

from functools import partial

from anyio import to_thread
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent_desk.auth.activity import is_user_activity
from agent_desk.auth.guard import COOKIE, LookedUp
from agent_desk.state import state_of

SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)


class SessionUserMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        token = conn.cookies.get(COOKIE, "")
        if token and not conn.url.path.startswith("/static/"):
            # The session store is synchronous Redis: looked up in a worker thread, so that a
            # slow Redis holds up this request and not every request on the event loop, and
            # once per request (the route's guard takes it from here, see ``caller_of``).
            session = await to_thread.run_sync(
                partial(state_of(conn).auth.sessions.get, token, touch=is_user_activity(scope))
            )
            conn.state.desk_session = LookedUp(token, session)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
