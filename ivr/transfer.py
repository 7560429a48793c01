"""A caller transferred by an agent to another skill comes back here and joins its queue."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models.calls import CallRecord
from ivr.agi.session import AgiSession
from ivr.flows.call import call_info
from ivr.flows.ports import QueueHandoff

log = logging.getLogger("ivr.transfer")
TRANSFER_SCRIPT = "transfer"
VAR_TRANSFER_SKILL = "CC_TRANSFER_SKILL"
VAR_LINE = "CC_LINE"  # set (inheritable) by the dialplan when the call came in
# A transferred caller has waited once already: ahead of new callers, behind elderly ones.
TRANSFER_PRIORITY = 5


class TransferHandler:
    def __init__(
        self, queue: QueueHandoff, session_factory: sessionmaker[Session], skills: set[str]
    ) -> None:
        self._queue = queue
        self._sessions = session_factory
        self._skills = skills

    async def __call__(self, session: AgiSession) -> None:
        skill = await session.get_variable(VAR_TRANSFER_SKILL) or ""
        line = await session.get_variable(VAR_LINE) or ""
        if skill not in self._skills or line not in ("114", "hotline"):
            log.error(
                "call %s: transfer to unknown skill %r on line %r", session.call_id, skill, line
            )
            await session.goto("incoming", "fallback")
            return
        call = await call_info(session, line)
        await asyncio.to_thread(self._mark_transferred, call.call_id)
        await self._queue.enter_queue(session, call, skill, TRANSFER_PRIORITY)

    def _mark_transferred(self, call_id: str) -> None:
        with transaction(self._sessions) as db:
            db.execute(
                update(CallRecord).where(CallRecord.call_id == call_id).values(transferred=True)
            )
