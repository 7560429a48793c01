"""The request-body limit of the partner APIs, as an ASGI middleware on the app.

Bodies above the limit get 413 ``body-too-large`` before any route, dependency or rate limit
sees them: a declared ``Content-Length`` above it is refused at once, and a body streamed
without one is refused as soon as it grows past it. The body is read here and handed on to
the app whole (the limit keeps it small).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent_desk.errors import error_response
from backend.errors import CallCenterError


class BodyTooLarge(CallCenterError):
    code = "body-too-large"
    http_status = 413


class ClientGone(Exception):
    """The client disconnected before its body arrived: there is nobody to answer."""


def body_too_large(max_body_bytes: int) -> BodyTooLarge:
    return BodyTooLarge(f"请求体超过{max_body_bytes}字节")


def declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length") or 0)
    except ValueError:  # the server has refused such a request already
        return 0


async def read_body(receive: Receive, limit: int) -> bytes:
    """The request body, refused as soon as it grows past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise body_too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class BodySizeLimit:
    """``max_body_bytes`` on the requests whose path starts with one of ``prefixes``."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self._limit = max_body_bytes
        self._prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self._prefixes):
            await self.app(scope, receive, send)
            return
        try:
            if declared_length(Headers(scope=scope)) > self._limit:
                raise body_too_large(self._limit)
            body = await read_body(receive, self._limit)
        except ClientGone:
            return
        except BodyTooLarge as exc:
            await error_response(exc)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app: the body read here first, then the client's own messages
    (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed
