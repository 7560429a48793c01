"""What the controller does around every call's flow: open the call record with the caller's
number protected, register the recording, and close both when the call is over. The record's
open and close go through ``RecordSpool``: kept on disk while PostgreSQL is unavailable,
written when it is back, so no served call goes without a record."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from backend.models.calls import Line
from backend.personal_data import PersonalDataCipher, protected_number
from ivr.agi.session import AgiSession
from ivr.flows.ports import CallInfo
from ivr.record_spool import RecordSpool
from recordings.index import RecordingIndex

log = logging.getLogger("ivr.calls")
RECORDING_VARIABLE = "CC_RECORDING"
UNRECORDED_VARIABLE = "CC_UNRECORDED"  # set by the dialplan's [record-call] when it did not


class CallLifecycle:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        recordings: RecordingIndex,
        cipher: PersonalDataCipher,
        spool_file: Path,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = session_factory
        self._now = now  # the call's clock (the demo's history runs a simulated one)
        # Opens, closes and recordings written through it: kept while PostgreSQL is down.
        self.spool = RecordSpool(session_factory, recordings, spool_file)
        self._recordings = recordings
        self._cipher = cipher
        self._finishing: set[asyncio.Task[bool]] = set()

    async def started(self, session: AgiSession, call: CallInfo) -> None:
        # Written before the flow's journal: its insert-if-absent then keeps this row, so the
        # caller's number is stored only encrypted, hashed and masked.
        await asyncio.to_thread(self.open_record, call)
        recording = await session.get_variable(RECORDING_VARIABLE)
        if recording:
            try:
                await asyncio.to_thread(self.spool.recording, call.call_id, recording, call.line)
            except ValueError as exc:  # a dialplan writing elsewhere: say so, keep the call
                log.error("call %s: recording not indexed: %s", call.unique_id, exc)
            return
        why = await session.get_variable(UNRECORDED_VARIABLE)
        if why:  # the dialplan kept it off file on purpose (recordings paused)
            log.warning("call %s not recorded: %s", call.unique_id, why)
            await asyncio.to_thread(self.mark_unrecorded, call.call_id, why)

    async def ended(self, call: CallInfo) -> None:
        await asyncio.to_thread(self.close_record, call)
        # Not awaited: Asterisk closes the recording only once the channel is gone, and the
        # channel waits for this AGI conversation to end first.
        task = asyncio.create_task(
            asyncio.to_thread(self._recordings.finish, call.call_id, None, 15.0)
        )
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    async def drain(self) -> None:
        """Let recordings of calls that just ended be completed (at shutdown)."""
        if self._finishing:
            await asyncio.gather(*self._finishing, return_exceptions=True)

    def open_record(self, call: CallInfo) -> None:
        """The call record as every call starts it: the number encrypted, hashed, masked."""
        values: dict[str, object] = {
            "line": Line(call.line),
            "did": call.did[:32],
            "started_at": self._now(),
            **protected_number(self._cipher, call.caller_number),
        }
        self.spool.open(call.call_id, values)

    def mark_unrecorded(self, call_id: str, why: str) -> None:
        self.spool.unrecorded(call_id, why)

    def close_record(self, call: CallInfo) -> None:
        self.spool.close(call.call_id, self._now())
