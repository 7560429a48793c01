"""Each data-changing call to the hospital API kept with its answer (an ASGI middleware).

Outside the header gate and the body limit, so that every refusal is seen as the hospital
saw it: an unsigned or stale request, a body too large, a malformed or unknown field, a
booked session it may not move, as well as an accepted push. The answer's status and
``{error, message}`` (or an accepted answer's counts) go to ``backend/booking/push_log``
just before the answer's last bytes are sent; a failure to keep it is logged and never
changes the answer.
Feed pulls are GETs and are audited instead (``hospital_api``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent_desk.hospital_gate import PREFIX
from agent_desk.state import AppState
from backend.booking.push_log import PushOutcome, accepted_summary, record_push
from backend.db import transaction

log = logging.getLogger(__name__)
KEPT_ANSWER_BYTES = 4096  # answers are small JSON; a longer one is cut, not parsed


class HospitalPushLog:
    def __init__(self, app: ASGIApp, *, state: AppState) -> None:
        self.app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_push(scope):
            await self.app(scope, receive, send)
            return
        status, answer, kept = 500, bytearray(), False

        async def keeping(message: Message) -> None:
            nonlocal status, kept
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                if len(answer) < KEPT_ANSWER_BYTES:
                    answer.extend(message.get("body", b"")[: KEPT_ANSWER_BYTES - len(answer)])
                if not message.get("more_body", False) and not kept:
                    # Kept before the answer's end is sent: a hospital that has its answer
                    # finds the call on its page, in the order it made its calls.
                    kept = True
                    await to_thread.run_sync(self._keep, _outcome(scope, status, bytes(answer)))
            await send(message)

        try:
            await self.app(scope, receive, keeping)
        finally:
            if not kept:  # no answer went out (the call failed inside): kept as a 500
                await to_thread.run_sync(self._keep, _outcome(scope, status, bytes(answer)))

    def _keep(self, outcome: PushOutcome) -> None:
        try:
            with transaction(self._state.session_factory) as session:
                record_push(session, outcome, datetime.now(UTC))
        except Exception:  # the answer has gone; losing its log line must not fail the call
            log.exception("could not keep the hospital push %s %s", outcome.method, outcome.path)


def _is_push(scope: Scope) -> bool:
    return (
        scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith(PREFIX)
    )


def _outcome(scope: Scope, status: int, raw: bytes) -> PushOutcome:
    try:
        answer: object = json.loads(raw) if raw else {}
    except ValueError:
        answer = {}
    key_id = Headers(scope=scope).get("x-hospital-key", "")
    method, path = scope["method"], scope["path"]
    if 200 <= status < 300:
        return PushOutcome(method, path, key_id, status, message=accepted_summary(answer))
    error = answer.get("error", "") if isinstance(answer, dict) else ""
    message = answer.get("message", "") if isinstance(answer, dict) else ""
    return PushOutcome(method, path, key_id, status, str(error or f"http-{status}"), str(message))
