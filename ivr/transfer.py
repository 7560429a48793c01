"""A caller transferred by an agent comes back here: to a skill's queue, or to one colleague.

The desk's blind transfer (AMI BlindTransfer of the agent's leg) sends the caller to
``<skill>@desk-transfer`` or ``<agent number>@desk-transfer``; the dialplan sets
``CC_TRANSFER_SKILL`` or ``CC_TRANSFER_AGENT`` and runs this script. Going through the ACD
keeps every state true: the first agent goes to wrap-up, the colleague is reserved, rings and
talks as on any ACD call, and a colleague who does not answer leaves the caller waiting in
the call's own skill for the next free agent.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.lines import is_line
from backend.models.agents import Agent
from backend.models.calls import CallRecord
from ivr.agi.session import AgiSession
from ivr.flows.call import call_info
from ivr.flows.ports import CallInfo, Channel, QueueOutcome

log = logging.getLogger("ivr.transfer")
TRANSFER_SCRIPT = "transfer"
VAR_TRANSFER_SKILL = "CC_TRANSFER_SKILL"
VAR_TRANSFER_AGENT = "CC_TRANSFER_AGENT"
VAR_LINE = "CC_LINE"  # set (inheritable) by the dialplan when the call came in
# A transferred caller has waited once already: ahead of new callers, behind elderly ones.
TRANSFER_PRIORITY = 5


class TransferQueue(Protocol):
    async def transfer_in(
        self,
        session: Channel,
        call: CallInfo,
        priority: int,
        *,
        skill: str | None = None,
        agent_id: int | None = None,
        elderly: bool = False,
    ) -> QueueOutcome: ...


class TransferHandler:
    def __init__(
        self, queue: TransferQueue, session_factory: sessionmaker[Session], skills: set[str]
    ) -> None:
        self._queue = queue
        self._sessions = session_factory
        self._skills = skills

    async def __call__(self, session: AgiSession) -> None:
        skill = await session.get_variable(VAR_TRANSFER_SKILL) or ""
        number = await session.get_variable(VAR_TRANSFER_AGENT) or ""
        line = await session.get_variable(VAR_LINE) or ""
        agent_id = await asyncio.to_thread(self._agent_id, number) if number else None
        known = agent_id is not None if number else skill in self._skills
        if not known or not is_line(line):
            # The desk checks targets first; this is a target that vanished meanwhile.
            log.error(
                "call %s: transfer to unknown %s %r on line %r",
                session.call_id,
                "agent" if number else "skill",
                number or skill,
                line,
            )
            await session.goto("incoming", "fallback")
            return
        call = await call_info(session, line)
        elderly = await asyncio.to_thread(self._mark_transferred, call.call_id)
        try:
            await self._queue.transfer_in(
                session,
                call,
                TRANSFER_PRIORITY,
                skill=skill or None,
                agent_id=agent_id,
                elderly=elderly,
            )
        finally:
            # The caller's channel ends with this session (no survey follows a transfer);
            # the queue leaves the record open while he is still on the line.
            await asyncio.to_thread(self._ended, call.call_id)

    def _agent_id(self, number: str) -> int | None:
        with self._sessions() as db:
            return db.scalar(select(Agent.id).where(Agent.number == number, Agent.active))

    def _ended(self, call_id: str) -> None:
        with transaction(self._sessions) as db:
            db.execute(
                update(CallRecord)
                .where(CallRecord.call_id == call_id)
                .values(ended_at=datetime.now(UTC))
            )

    def _mark_transferred(self, call_id: str) -> bool:
        """Mark the record transferred; whether the call is in elderly mode (敬老), which the
        caller keeps in the colleague's queue."""
        with transaction(self._sessions) as db:
            elderly = db.scalar(
                update(CallRecord)
                .where(CallRecord.call_id == call_id)
                .values(transferred=True)
                .returning(CallRecord.elderly)
            )
        return bool(elderly)
