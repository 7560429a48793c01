"""The demo's traffic: simulated agents signed in and ready, then real calls into Asterisk
from Local/ channels, and a report of what happened to each call."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from sqlalchemy import select

from backend.acd.model import AgentProfile
from backend.acd.skills import skill_configs
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.db import make_engine, make_session_factory
from backend.models.agents import Agent
from backend.models.calls import CallRecord
from backend.settings import Settings
from backend.speech.tts import prompt_seconds
from ivr.pbx.simulated import carrier_channel, simulated_call

# (line, caller, keys, seconds on the line, what the caller does); the DIDs are settings
DEMO_CALLS = (
    ("114", "13800138001", "1", 30, "按1 电话预约挂号"),
    ("114", "13800138002", "9", 40, "按9 敬老模式，一键转人工"),
    ("114", "13800138003", "", 8, "未按键，在菜单中挂机"),
    ("hotline", "13800138004", "2", 30, "医保热线 按2 报销咨询（非工作时间则留言）"),
)
AGENT_RING_SECONDS = 2
AGENT_TALK_SECONDS = 10


async def place_call(settings: Settings, did: str, caller: str, dtmf: str, hold: float) -> str:
    ami = AmiClient(settings, AmiUser.TOOLS)
    await ami.connect()
    try:
        return await simulated_call(
            ami, carrier_channel(did), caller_id=caller, dtmf=dtmf, hold=hold
        )
    finally:
        ami.close()


async def agents_ready(settings: Settings, ami: AmiClient) -> list[str]:
    """Sign the demo's simulated agents in and make them ready, as the desk would."""
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    factory = make_session_factory(engine)
    with factory() as session:
        agents = session.scalars(
            select(Agent).where(Agent.interface.like("Local/%@sim-agent"))
        ).all()
        profiles = [
            AgentProfile(a.id, a.number, a.interface, {s.skill_code: s.level for s in a.skills})
            for a in agents
        ]
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    store = AcdStore(
        redis, settings.desk_redis_prefix, skill_configs(factory), controller_id="demo"
    )
    names = []
    try:
        for profile in profiles:
            await ami.db_put("simagent", f"{profile.number}/ring", str(AGENT_RING_SECONDS))
            await ami.db_put("simagent", f"{profile.number}/talk", str(AGENT_TALK_SECONDS))
            view = await store.agent(profile.agent_id)
            await store.register_agent(profile)
            if view is None or view.status.state in (AgentState.LOGGED_OUT, AgentState.NOT_READY):
                await store.change_state(profile.agent_id, AgentState.READY, actor="demo")
            names.append(profile.number)
    finally:
        await redis.aclose()  # type: ignore[attr-defined]
        engine.dispose()
    return names


async def run_demo_calls(settings: Settings, settle_seconds: float = 60.0) -> list[str]:
    """Place the demo calls, wait for them to finish, and describe what happened to each."""
    ami = AmiClient(settings, AmiUser.TOOLS)
    await ami.connect()
    try:
        ready = await agents_ready(settings, ami)
        lines = [f"simulated agents signed in and ready: {', '.join(ready)}", "placing demo calls:"]
        # Keys are pressed once the welcome has played, as a first-time caller would.
        welcome = {
            "114": prompt_seconds(settings, "114", "welcome"),
            "hotline": prompt_seconds(settings, "hotline", "welcome"),
        }
        dids = settings.did
        for line, caller, keys, hold, what in DEMO_CALLS:
            await simulated_call(
                ami,
                carrier_channel(dids[line]),
                caller_id=caller,
                dtmf=keys,
                delay=welcome[line] + 1.5,
                hold=hold,
            )
            lines.append(f"  {dids[line]} from {caller[:3]}****{caller[-4:]}: {what}")
            await asyncio.sleep(0.5)
    finally:
        ami.close()
    await asyncio.sleep(settle_seconds)
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    with make_session_factory(engine)() as session:
        records = session.scalars(
            select(CallRecord)
            .where(CallRecord.caller_number.like("138****%"))
            .order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
            .limit(len(DEMO_CALLS))
        ).all()
    engine.dispose()
    lines.append("call records:")
    for record in reversed(records):
        lines.append(
            f"  {record.line:<8} {record.caller_number} {record.disposition:<16} "
            f"intent={record.intent or '-':<10} skill={record.skill or '-':<10} "
            f"wait={record.wait_seconds:.1f}s talk={record.talk_seconds:.1f}s "
            f"agent={record.agent_id or '-'} recording={'yes' if record.recording_id else 'no'}"
        )
    return lines
