"""A caller an agent transfers to a skill or a colleague comes back to the controller, which
queues him to that skill or reserves that colleague for him."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.ami.client import AmiClient
from backend.models.calls import CallRecord, Line
from backend.models.users import Role
from ivr.agi.session import AgiSession
from ivr.flows.ports import CallInfo, Channel, QueueOutcome, QueueStatus
from ivr.transfer import TRANSFER_PRIORITY, TransferHandler
from tests.asterisk_fixtures import AgiRoutes
from tests.desk_support import make_user

pytestmark = pytest.mark.asterisk


class QueueSeen:
    """A TransferQueue that notes who joined which queue for whom, then lets the caller go."""

    def __init__(self) -> None:
        self.joined: asyncio.Future[tuple[str, str | None, int, int | None]] = (
            asyncio.get_running_loop().create_future()
        )
        self.elderly: bool | None = None  # whether he waits in 敬老 mode

    async def transfer_in(
        self,
        session: Channel,
        call: CallInfo,
        priority: int,
        *,
        skill: str | None = None,
        agent_id: int | None = None,
        elderly: bool = False,
    ) -> QueueOutcome:
        self.elderly = elderly
        self.joined.set_result((call.call_id, skill, priority, agent_id))
        return QueueOutcome(QueueStatus.ABANDONED)


async def transferred_caller(ami: AmiClient, target: str) -> None:
    """A channel arriving in <target>@desk-transfer, as the desk's BlindTransfer sends it."""
    await ami.originate(
        f"Local/{target}@desk-transfer",
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
    call_id, skill, priority, agent_id = await asyncio.wait_for(queue.joined, 20)
    assert (skill, priority, agent_id) == ("reimbursement", TRANSFER_PRIORITY, None)
    # Priority 5 puts him ahead of new callers; it does not make him elderly.
    assert queue.elderly is False
    assert call_id == seen_ids[0]
    with session_factory() as db:
        record = db.scalar(select(CallRecord).where(CallRecord.call_id == call_id))
        assert record is not None and record.transferred


@pytest.mark.parametrize("target", ["nosuch", "99999"], ids=["skill", "agent number"])
async def test_transfer_to_an_unknown_target_goes_to_the_dialplan_fallback(
    target: str, agi_routes: AgiRoutes, ami: AmiClient, session_factory: sessionmaker[Session]
) -> None:
    queue = QueueSeen()
    agi_routes.set("transfer", TransferHandler(queue, session_factory, {"policy"}))
    fallbacks: asyncio.Queue[dict[str, str]] = asyncio.Queue()

    def on_event(event: dict[str, str]) -> None:
        if event.get("UserEvent") == "CallFallback":
            fallbacks.put_nowait(event)

    ami.subscribe("UserEvent", on_event)
    await transferred_caller(ami, target)
    event = await asyncio.wait_for(fallbacks.get(), 20)
    assert event.get("Line") == "hotline"
    assert not queue.joined.done()


async def test_a_caller_transferred_to_a_colleague_waits_for_that_colleague(
    agi_routes: AgiRoutes, ami: AmiClient, session_factory: sessionmaker[Session]
) -> None:
    colleague = make_user(session_factory, Role.AGENT)
    queue = QueueSeen()
    handler = TransferHandler(queue, session_factory, {"booking"})

    async def transfer(session: AgiSession) -> None:
        with session_factory() as db, db.begin():  # a call the IVR put in 敬老 mode
            db.add(CallRecord(call_id=session.linked_id, line=Line.HOTLINE, elderly=True))
        await handler(session)

    agi_routes.set("transfer", transfer)
    await transferred_caller(ami, colleague.agent_number)
    _, skill, priority, agent_id = await asyncio.wait_for(queue.joined, 20)
    # No skill named: the call waits in its own skill, with the colleague reserved.
    assert (skill, priority, agent_id) == (None, TRANSFER_PRIORITY, colleague.agent_id)
    # The elderly caller keeps his slow, loud announcements in the colleague's queue.
    assert queue.elderly is True
