"""Call records no controller will close: their calls were lost with the controller that
held them, or with Asterisk. Found by the ``ix_call_records_open`` partial index (only open
records are in it), closed as ``controller_lost`` — or as answered when the ACD knows an
agent took the call — and their recordings completed."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models.calls import CallRecord, Disposition
from recordings.index import RecordingIndex

log = logging.getLogger("ivr.resync")

# Dispositions a record may still carry while its call goes on: only these are overwritten.
UNSETTLED = (Disposition.IN_PROGRESS, Disposition.CONTROLLER_LOST)
# Older open records are left to an operator: no call lasts a day.
LOOK_BACK = timedelta(days=1)


@dataclass(frozen=True)
class Answer:
    """What the ACD knows of an agent having taken the call."""

    agent_id: int
    answered_at: float  # epoch seconds
    skill: str


class SqlOpenCalls:
    def __init__(self, session_factory: sessionmaker[Session], recordings: RecordingIndex) -> None:
        self._sessions = session_factory
        self._recordings = recordings

    async def open_call_ids(self, started_before: datetime) -> list[str]:
        return await asyncio.to_thread(self._open_call_ids, started_before)

    async def mark_lost(self, call_ids: list[str]) -> int:
        """Callers the dialplan took to the fallback: said so now, closed when they hang up."""
        return await asyncio.to_thread(self._mark_lost, call_ids)

    async def close(self, call_id: str, answer: Answer | None, ended_at: datetime) -> bool:
        """Close the record of a call that ended by ``ended_at`` (when it was first missed)."""
        closed = await asyncio.to_thread(self._close, call_id, answer, ended_at)
        # The channel is gone, so Asterisk has closed its recording: complete it now.
        agent = answer.agent_id if answer else None
        await asyncio.to_thread(self._recordings.finish, call_id, agent, 0.0)
        return closed

    def _open_call_ids(self, started_before: datetime) -> list[str]:
        with self._sessions() as session:
            query = select(CallRecord.call_id).where(
                CallRecord.ended_at.is_(None),
                CallRecord.started_at < started_before,
                CallRecord.started_at > started_before - LOOK_BACK,
            )
            return list(session.scalars(query))

    def _mark_lost(self, call_ids: list[str]) -> int:
        if not call_ids:
            return 0
        with transaction(self._sessions) as session:
            result = session.execute(
                update(CallRecord)
                .where(
                    CallRecord.call_id.in_(call_ids),
                    CallRecord.ended_at.is_(None),
                    CallRecord.disposition == Disposition.IN_PROGRESS,
                )
                .values(disposition=Disposition.CONTROLLER_LOST)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def _close(self, call_id: str, answer: Answer | None, now: datetime) -> bool:
        with transaction(self._sessions) as session:
            return close_lost_call(session, call_id, answer, now)


def close_lost_call(session: Session, call_id: str, answer: Answer | None, now: datetime) -> bool:
    """Close an open record no controller will close: ``controller_lost``, or answered by
    the ACD's agent; a disposition its controller settled already is kept."""
    values: dict[str, object] = {"ended_at": now}
    if answer is None:
        values["disposition"] = Disposition.CONTROLLER_LOST
    else:
        answered = datetime.fromtimestamp(answer.answered_at, UTC)
        values |= {
            "disposition": Disposition.ANSWERED,
            "agent_id": answer.agent_id,
            "answered_at": answered,
            "talk_seconds": round(max(0.0, (now - answered).total_seconds()), 3),
        }
        if answer.skill:
            values["skill"] = answer.skill[:32]
    result = session.execute(
        update(CallRecord)
        .where(
            CallRecord.call_id == call_id,
            CallRecord.ended_at.is_(None),
            CallRecord.disposition.in_(UNSETTLED),
        )
        .values(**values)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        return True
    # Settled by its controller already (a disposition of its own): just close it.
    result = session.execute(
        update(CallRecord)
        .where(CallRecord.call_id == call_id, CallRecord.ended_at.is_(None))
        .values(ended_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
