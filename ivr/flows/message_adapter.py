"""Adapter: messages left in the IVR become work orders with a callback task (``MessageSink``).

Not imported by the engine; the controller's composition root builds it. Recordings are
written by Asterisk under ``<recordings>/messages/YYYY/MM/DD/`` (UTC date) and the work order
keeps the path relative to the recordings folder, like the recordings index does.

The callback task goes with the order only when the callback gate admits the caller's number
(``backend/telephony/callback_gate.py``); otherwise the message is kept all the same, the
order says why nobody calls back, and so does the caller's last prompt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.settings import Settings
from backend.telephony.callback_gate import CallbackGate, CallbackRefused
from backend.workorders.composition import WorkOrders
from backend.workorders.workflow import Source
from ivr.flows.ports import CallInfo, KeptMessage, LeftMessage
from recordings.keys import master_key
from recordings.messages import MESSAGES_FOLDER, seal_message

# The flow's message topic that marks a voicemail left instead of waiting in the queue;
# every other topic is an out-of-hours message.
QUEUE_VOICEMAIL_TOPIC = "queue_voicemail"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WorkOrderMessageSink:
    """Implements ``ivr.flows.ports.MessageSink``; SQL runs in a worker thread."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        callbacks: CallbackGate,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._factory = session_factory
        self._callbacks = callbacks
        self._settings = settings
        self._clock = clock
        self._workorders = WorkOrders.from_settings(settings, session_factory)
        self._recordings = settings.effective_asterisk_recordings_dir.rstrip("/")
        self._master = master_key(settings)

    def message_path(self, call: CallInfo) -> str:
        day = self._clock().astimezone(UTC)
        name = "".join(c if c.isalnum() or c in "._-" else "_" for c in call.unique_id)
        path = f"{self._recordings}/{MESSAGES_FOLDER}/{day:%Y/%m/%d}/{name}"
        # RECORD FILE does not create folders.
        self._settings.host_path(path).parent.mkdir(parents=True, exist_ok=True)
        return path

    async def message_left(self, call: CallInfo, message: LeftMessage) -> KeptMessage:
        return await asyncio.to_thread(self._create_order, call, message)

    def _create_order(self, call: CallInfo, message: LeftMessage) -> KeptMessage:
        source = (
            Source.QUEUE_VOICEMAIL
            if message.topic == QUEUE_VOICEMAIL_TOPIC
            else Source.HOTLINE_MESSAGE
        )
        relative = message.recording_path.removeprefix(self._recordings + "/")
        # RECORD FILE has closed it: sealed now, so the citizen's words never stay in clear.
        seal_message(self._settings.effective_recordings_dir, relative, self._master)
        no_callback = ""
        try:
            self._callbacks.admit(call.caller_number, call_id=call.call_id, line=call.line)
        except CallbackRefused as refusal:
            no_callback = refusal.message
        with transaction(self._factory) as session:
            order, _task = self._workorders.service(session).create_from_message(
                call.call_id, call.line, call.caller_number, relative,
                source=source, received_at=self._clock(), no_callback=no_callback,
            )  # fmt: skip
            reference = order.number
        said = f"您的留言已记录。{no_callback}。" if no_callback else ""
        return KeptMessage(reference, said)
