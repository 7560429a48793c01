"""What an outbound call reads and writes in PostgreSQL: the agent whose phone dials, the call
record (the citizen's number only encrypted, hashed and masked), and the call's result on the
work order or callback task it was for. SQL runs in worker threads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models.agents import Agent, AgentSkill, Skill
from backend.models.calls import CallRecord, Direction, Disposition, Line
from backend.personal_data import protected_number
from backend.settings import Settings
from backend.telephony.agent_lines import line_of
from backend.workorders.calls import CallAttempt
from backend.workorders.composition import WorkOrders
from backend.workorders.journal import SYSTEM, Actor


@dataclass(frozen=True)
class AgentPhone:
    agent_id: int
    number: str  # 工号, also the phone's SIP user
    line: str  # the line whose number his own calls present


@dataclass(frozen=True)
class OutboundCall:
    call_id: str
    agent: AgentPhone
    line: str
    number: str  # national form, personal data: stored only protected, never logged
    caller_id: str  # the number presented to the citizen
    parent_call_id: str | None = None  # the call this one follows up (an order's intake)
    dial: str = ""  # the number as the carrier is asked for it


@dataclass(frozen=True)
class OutboundResult:
    disposition: Disposition
    answered_at: datetime | None
    ended_at: datetime
    talk_seconds: float
    hold_seconds: float
    wrapup_seconds: float


class OutboundRecords:
    def __init__(self, session_factory: sessionmaker[Session], settings: Settings) -> None:
        self._sessions = session_factory
        self._workorders = WorkOrders.from_settings(settings, session_factory)
        self._cipher = self._workorders.cipher

    # Agents --------------------------------------------------------------------------------

    async def agent_by_number(self, number: str) -> AgentPhone | None:
        return await asyncio.to_thread(self._agent, Agent.number == number)

    async def agent_by_id(self, agent_id: int) -> AgentPhone | None:
        return await asyncio.to_thread(self._agent, Agent.id == agent_id)

    def _agent(self, where: ColumnElement[bool]) -> AgentPhone | None:
        with self._sessions() as db:
            agent = db.scalar(select(Agent).where(where, Agent.active.is_(True)))
            if agent is None:
                return None
            skills = db.execute(
                select(Skill.line, AgentSkill.level)
                .join(Skill, Skill.code == AgentSkill.skill_code)
                .where(AgentSkill.agent_id == agent.id)
            ).all()
            return AgentPhone(
                agent.id,
                agent.number,
                line_of([(line, level) for line, level in skills]),
            )

    # Call records ----------------------------------------------------------------------------

    async def opened(self, call: OutboundCall) -> None:
        await asyncio.to_thread(self._insert, call, Disposition.IN_PROGRESS, None)

    async def refused(self, call: OutboundCall) -> None:
        """An attempt the dial policy refused: on record, with nothing dialled."""
        await asyncio.to_thread(self._insert, call, Disposition.REFUSED, datetime.now(UTC))

    async def closed(self, call_id: str, result: OutboundResult) -> None:
        await asyncio.to_thread(self._close, call_id, result)

    def _insert(
        self, call: OutboundCall, disposition: Disposition, ended_at: datetime | None
    ) -> None:
        statement = insert(CallRecord).values(
            call_id=call.call_id,
            direction=Direction.OUTBOUND,
            line=Line(call.line),
            did=call.caller_id[:32],
            started_at=datetime.now(UTC),
            ended_at=ended_at,
            agent_id=call.agent.agent_id,
            disposition=disposition,
            parent_call_id=call.parent_call_id,
            **protected_number(self._cipher, call.number),
        )
        with transaction(self._sessions) as db:
            db.execute(statement.on_conflict_do_nothing(index_elements=["call_id"]))

    def _close(self, call_id: str, result: OutboundResult) -> None:
        with transaction(self._sessions) as db:
            db.execute(
                update(CallRecord)
                .where(CallRecord.call_id == call_id)
                .values(
                    disposition=result.disposition,
                    answered_at=result.answered_at,
                    ended_at=result.ended_at,
                    talk_seconds=round(result.talk_seconds, 3),
                    hold_seconds=round(result.hold_seconds, 3),
                    wrapup_seconds=result.wrapup_seconds,
                )
            )

    # Work orders and callback tasks ------------------------------------------------------

    async def order_call(self, order_id: int) -> tuple[str, str | None]:
        """(the order's line, its intake call) for a 回访 call's record."""
        return await asyncio.to_thread(self._order_call, order_id)

    def _order_call(self, order_id: int) -> tuple[str, str | None]:
        with self._sessions() as db:
            service = self._workorders.service(db)
            order = service.get(order_id)
            return order.line, order.call_id

    async def call_attempted(self, order_id: int, attempt: CallAttempt, actor: str) -> None:
        """The call's result on the order's timeline (an answered one linked with its
        recording)."""
        await asyncio.to_thread(self._call_attempted, order_id, attempt, actor)

    def _call_attempted(self, order_id: int, attempt: CallAttempt, actor: str) -> None:
        with transaction(self._sessions) as db:
            service = self._workorders.service(db)
            service.call_attempted(order_id, attempt, Actor(actor or SYSTEM), datetime.now(UTC))
