"""A queue port for controller tests that do not need the ACD."""

from __future__ import annotations

from ivr.agi.session import AgiSession
from ivr.flows.ports import CallInfo, Channel, QueueOutcome, QueueStatus


class DialplanFallbackQueue:
    """Hands the caller to the dialplan's fallback agents instead of an ACD queue."""

    async def enter_queue(
        self, session: Channel, call: CallInfo, skill: str, priority: int, *, elderly: bool = False
    ) -> QueueOutcome:
        assert isinstance(session, AgiSession)
        await session.goto("incoming", "fallback")
        return QueueOutcome(QueueStatus.NO_AGENT)
