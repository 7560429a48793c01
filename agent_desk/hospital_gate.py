"""The hospital API's headers checked before its body is read (an ASGI middleware).

A signature needs the body, but everything else about a signed request does not: the four
headers present, the timestamp within the window, the nonce well-formed, the key an active
hospital's (``backend/booking/hospital_auth.presented_hospital``). This layer sits outside
the body limit (``agent_desk/body_limit.py``), so a request failing these checks gets its
401 ``bad-signature`` without its body being read at all, and a body of a plausible request
is read only up to the API's limit. The route checks it all again, with the signature.
"""

from __future__ import annotations

import time

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from agent_desk.errors import error_response
from agent_desk.state import AppState
from backend.booking.hospital_auth import presented_hospital
from backend.signatures import SignatureRejected

PREFIX = "/api/hospital/"


class HospitalHeaderGate:
    def __init__(self, app: ASGIApp, *, state: AppState) -> None:
        self.app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            try:
                await to_thread.run_sync(self._check, Headers(scope=scope))
            except SignatureRejected as exc:
                await error_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _check(self, headers: Headers) -> None:
        with self._state.session_factory() as session:
            presented_hospital(
                session,
                self._state.online_booking.ctx,
                headers.get("x-hospital-key", ""),
                headers.get("x-timestamp", ""),
                headers.get("x-nonce", ""),
                headers.get("x-signature", ""),
                now=time.time(),
            )
