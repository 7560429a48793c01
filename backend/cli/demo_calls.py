"""Simulated calls for the demo: real calls into Asterisk from Local/ channels."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from backend.db import make_engine, make_session_factory
from backend.models.calls import CallRecord
from backend.settings import Settings
from ivr.ami.client import AmiClient

# (DID, caller, keys, seconds on the line, what the caller does)
DEMO_CALLS = (
    ("114", "13800138001", "ww1", 25, "按1 电话预约挂号"),
    ("114", "13800138002", "ww9ww0", 25, "按9 敬老模式，再按0 转人工"),
    ("114", "13800138003", "ww2", 12, "按2 自助查询预约"),
    ("12393", "13800138004", "ww2", 25, "医保热线 按2 报销咨询"),
)


async def place_call(settings: Settings, did: str, caller: str, dtmf: str, hold: float) -> str:
    ami = AmiClient(settings)
    await ami.connect()
    try:
        return await ami.originate(
            f"Local/{did}@from-carrier",
            context="sim-caller",
            caller_id=f'"{caller}" <{caller}>',
            variables={"SIM_DTMF": dtmf, "SIM_DELAY": "1", "SIM_HOLD": f"{hold:g}"},
        )
    finally:
        ami.close()


async def run_demo_calls(settings: Settings, settle_seconds: float = 35.0) -> list[str]:
    """Place the demo calls, wait for them to finish, and describe what happened to each."""
    lines = ["placing demo calls:"]
    for did, caller, dtmf, hold, what in DEMO_CALLS:
        await place_call(settings, did, caller, dtmf, hold)
        lines.append(f"  {did} from {caller[:3]}****{caller[-4:]}: {what}")
        await asyncio.sleep(0.5)
    await asyncio.sleep(settle_seconds)
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    with make_session_factory(engine)() as session:
        records = session.scalars(
            select(CallRecord).order_by(CallRecord.started_at.desc()).limit(len(DEMO_CALLS))
        ).all()
    engine.dispose()
    lines.append("call records:")
    for record in reversed(records):
        lines.append(
            f"  {record.line:<8} {record.disposition:<16} intent={record.intent or '-':<12} "
            f"skill={record.skill or '-':<10} wait={record.wait_seconds:.1f}s "
            f"talk={record.talk_seconds:.1f}s agent={record.agent_id or '-'}"
        )
    return lines
