"""The emergency board the flows read (``ivr.flows.ports.EmergencyBoard``): PostgreSQL, read
per call, so a message switched on in the desk is heard by the next caller without a
restart, and none is heard after its end (``backend/emergency.py``)."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker

from backend.emergency import active_message
from ivr.flows.ports import Clock, EmergencyNotice, SystemClock


class SqlEmergencyBoard:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = session_factory
        self._clock = clock or SystemClock()

    async def active(self, scope: str, target: str) -> EmergencyNotice | None:
        return await asyncio.to_thread(self._active, scope, target)

    def _active(self, scope: str, target: str) -> EmergencyNotice | None:
        with self._sessions() as db:
            message = active_message(db, scope, target, self._clock.now())
        if message is None:
            return None
        return EmergencyNotice(
            message.id, message.text, message.recording, message.mode, message.divert_skill
        )
