"""The queue's part of the call record in PostgreSQL: wait, answer, talk, agent, disposition.

The IVR journal opens the record when the call arrives; this fills in what happened in the
queue when the caller leaves it, and writes one outbound record per callback attempt, linked
to the call the caller left the queue from (``parent_call_id``). Wait time is queue entry to
agent answer (ASA excludes IVR time), measured by the controller that held the call. A caller
still on the line after the queue (the survey follows the agent's hang-up) keeps his record
open: it ends with his channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.lines import LINE_CODES
from backend.models.calls import CallRecord, Direction, Disposition, Line
from ivr.acd.callbacks import CallbackReport
from ivr.acd.queue import QueueReport

SHORT_ABANDON_SECONDS = 5.0


def _utc(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def queue_disposition(report: QueueReport, short_abandon_seconds: float) -> Disposition:
    if report.status == "answered":
        return Disposition.ANSWERED
    if report.status == "callback":
        return Disposition.CALLBACK
    if report.status == "voicemail":
        return Disposition.VOICEMAIL
    if report.wait_seconds < short_abandon_seconds:
        return Disposition.SHORT_ABANDON
    return Disposition.ABANDONED_QUEUE


class SqlQueueRecorder:
    """Implements ``QueueObserver`` and ``CallbackObserver``; SQL runs in a worker thread."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        wrapup_seconds: Mapping[str, float] | None = None,
        short_abandon_seconds: float = SHORT_ABANDON_SECONDS,
    ) -> None:
        self._factory = session_factory
        self._wrapup: Mapping[str, float] = wrapup_seconds if wrapup_seconds is not None else {}
        self._short = short_abandon_seconds

    async def queue_left(self, report: QueueReport) -> None:
        await asyncio.to_thread(self._queue_left, report)

    async def callback_done(self, report: CallbackReport) -> None:
        await asyncio.to_thread(self._callback_done, report)

    def _queue_left(self, report: QueueReport) -> None:
        answered = report.status == "answered"
        values: dict[str, object] = {
            "queued_at": _utc(report.queued_at),
            "answered_at": _utc(report.answered_at),
            "ended_at": _utc(report.left_at),
            "wait_seconds": round(report.wait_seconds, 3),
            "talk_seconds": round(report.talk_seconds, 3),
            "hold_seconds": round(report.hold_seconds, 3),
            "wrapup_seconds": self._wrapup.get(report.skill, 0.0) if answered else 0.0,
            "agent_id": report.agent_id if answered else None,
            "skill": report.skill[:32],
            "priority": report.priority,
            "disposition": queue_disposition(report, self._short),
        }
        if report.caller_on_line:
            # The caller stays (for the survey, or the flow's next node): the record ends
            # with his channel (CallLifecycle.ended, TransferHandler), not here.
            del values["ended_at"]
        statement = insert(CallRecord).values(
            call_id=report.call_id,
            line=Line(report.line),
            caller_number=report.caller_number[:32],
            started_at=_utc(report.queued_at),
            **values,
        )
        with transaction(self._factory) as session:
            session.execute(
                statement.on_conflict_do_update(index_elements=["call_id"], set_=values)
            )

    def _callback_done(self, report: CallbackReport) -> None:
        with transaction(self._factory) as session:
            parent = session.scalar(
                select(CallRecord).where(CallRecord.call_id == report.parent_call_id)
            )
            answered = report.status == "answered"
            values: dict[str, object] = {
                "direction": Direction.OUTBOUND,
                # A callback whose call was never recorded: the registry's first line.
                "line": parent.line if parent else Line(LINE_CODES[0]),
                "caller_number": parent.caller_number if parent else "",
                # The citizen called back is the parent's caller: the same protected number.
                "caller_enc": parent.caller_enc if parent else "",
                "caller_hash": parent.caller_hash if parent else "",
                "did": parent.did if parent else "",
                "started_at": _utc(report.started_at),
                "answered_at": _utc(report.answered_at),
                "ended_at": _utc(report.ended_at),
                "talk_seconds": round(report.talk_seconds, 3),
                "agent_id": report.agent_id,
                "skill": parent.skill if parent else "",
                "disposition": Disposition.ANSWERED if answered else Disposition.CALLBACK,
                "parent_call_id": report.parent_call_id,
            }
            session.execute(
                insert(CallRecord)
                .values(call_id=report.unique_id, **values)
                .on_conflict_do_update(index_elements=["call_id"], set_=values)
            )
