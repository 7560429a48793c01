"""A caller an agent transfers to a skill comes back to the controller and joins that queue."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.calls import CallRecord, Line
from ivr.agi.session import AgiSession
from ivr.ami.client import AmiClient
from ivr.flows.ports import CallInfo, Channel, QueueOutcome, QueueStatus
from ivr.transfer import TRANSFER_PRIORITY, TransferHandler
from tests.asterisk_fixtures import AgiRoutes

pytestmark = pytest.mark.asterisk


class QueueSeen:
    """A QueueHandoff that notes who joined which queue, then lets the caller go."""

    def __init__(self) -> None:
        self.joined: asyncio.Future[tuple[str, str, int]] = (
            asyncio.get_running_loop().create_future()
        )

    async def enter_queue(
        self, session: Channel, call: CallInfo, skill: str, priority: int
    ) -> QueueOutcome:
        self.joined.set_result((call.call_id, skill, priority))
        return QueueOutcome(QueueStatus.ABANDONED)


async def transferred_caller(ami: AmiClient, skill: str) -> None:
    """A channel arriving in <skill>@desk-transfer, as the desk's BlindTransfer sends it."""
    await ami.originate(
        f"Local/{skill}@desk-transfer",
        application="Wait",
        data="5",
        variables={"__CC_LINE": "hotline"},
    )


async def test_transferred_caller_joins_the_skill_queue_ahead_of_new_callers(
    agi_routes: AgiRoutes, ami: AmiClient, session_factory: sessionmaker[Session]
) -> None:
    queue = QueueSeen()
    handler = TransferHandler(queue, session_factory, {"reimbursement", "policy"})
    seen_ids: list[str] = []

    async def transfer(session: AgiSession) -> None:
        seen_ids.append(session.linked_id)
        with session_factory() as db, db.begin():  # the call's record from its first leg
            db.add(CallRecord(call_id=session.linked_id, line=Line.HOTLINE))
        await handler(session)

    agi_routes.set("transfer", transfer)
    await transferred_caller(ami, "reimbursement")
    call_id, skill, priority = await asyncio.wait_for(queue.joined, 20)
    assert (skill, priority) == ("reimbursement", TRANSFER_PRIORITY)
    assert call_id == seen_ids[0]
    with session_factory() as db:
        record = db.scalar(select(CallRecord).where(CallRecord.call_id == call_id))
        assert record is not None and record.transferred


async def test_transfer_to_an_unknown_skill_goes_to_the_dialplan_fallback(
    agi_routes: AgiRoutes, ami: AmiClient, session_factory: sessionmaker[Session]
) -> None:
    queue = QueueSeen()
    agi_routes.set("transfer", TransferHandler(queue, session_factory, {"policy"}))
    fallbacks: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    marker = uuid.uuid4().hex[:6]

    def on_event(event: dict[str, str]) -> None:
        if event.get("UserEvent") == "CallFallback":
            fallbacks.put_nowait(event)

    ami.subscribe("UserEvent", on_event)
    await transferred_caller(ami, f"nosuch{marker}")
    event = await asyncio.wait_for(fallbacks.get(), 20)
    assert event.get("Line") == "hotline"
    assert not queue.joined.done()
