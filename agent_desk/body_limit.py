"""The request-body limit of every route, as an ASGI middleware on the app.

Bodies above the limit get 413 ``body-too-large`` before any route, dependency, rate limit
or signature check sees them: a declared ``Content-Length`` above it is refused at once, and
a body streamed without one is refused as soon as it grows past it. The body is read here
and handed on to the app whole (the limit keeps it small).

The limit depends on the path (``BodyLimits``): the routes anybody can reach without a
session come first and get the smallest — the online booking API
(``CC_BOOKING_MAX_BODY_BYTES``), sign-in (4 KiB), the hospitals' schedule pushes
(``CC_HOSPITAL_API_MAX_BODY_BYTES``, sized for the largest push the API takes:
agent_desk/api/hospital_schemas.py; their headers are checked before the body is read,
agent_desk/hospital_gate.py) and the 12345 platform's imports
(``CC_CITY_PLATFORM_MAX_BODY_BYTES``); every other route, the desk's own APIs and pages,
gets ``CC_DESK_MAX_BODY_BYTES``.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent_desk.errors import error_response
from backend.errors import CallCenterError
from backend.settings import Settings

# Sign-in, the TOTP step and a password change: a few short fields.
AUTH_MAX_BODY_BYTES = 4 * 1024


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


@dataclass(frozen=True)
class BodyLimits:
    """The most bytes a body may have: by path prefix (the first that matches), else
    ``default``."""

    default: int
    by_prefix: tuple[tuple[str, int], ...] = ()

    def for_path(self, path: str) -> int:
        for prefix, limit in self.by_prefix:
            if path.startswith(prefix):
                return limit
        return self.default


def desk_body_limits(settings: Settings, partner_max_body_bytes: int) -> BodyLimits:
    """The desk app's limits; ``partner_max_body_bytes``: the online booking rules' limit."""
    return BodyLimits(
        default=settings.desk_max_body_bytes,
        by_prefix=(
            ("/api/public/", partner_max_body_bytes),
            ("/api/hospital/", settings.hospital_api_max_body_bytes),
            ("/api/auth/", AUTH_MAX_BODY_BYTES),
            ("/api/city-platform/", settings.city_platform_max_body_bytes),
        ),
    )


class BodySizeLimit:
    """``limits`` on every HTTP request (WebSocket messages are uvicorn's to limit)."""

    def __init__(self, app: ASGIApp, *, limits: BodyLimits) -> None:
        self.app = app
        self._limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limits.for_path(scope["path"])
        try:
            if declared_length(Headers(scope=scope)) > limit:
                raise body_too_large(limit)
            body = await read_body(receive, limit)
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
