"""A stack of its own for fault tests: an Asterisk instance, its AMI (tools user) and
`callcenter controller` as a real process that a test may kill -9 and start again, on the
session's database and a Redis prefix of its own."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import AgentProfile
from backend.acd.skills import skill_configs
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.models.calls import CallRecord, Recording
from backend.personal_data import PersonalDataCipher, normalize_number
from backend.settings import Settings, load_settings
from backend.speech.tts import prompt_seconds
from ivr.pbx.instance import AsteriskInstance
from ivr.pbx.simulated import carrier_channel, simulated_call
from tests.conftest import CALLER_ID_114, CALLER_ID_HOTLINE, DID_114, DID_HOTLINE
from tests.desk_support import ensure_skill
from tests.stack_process import stack_environment

FALLBACK_AGENT = "Local/fallback@sim-agent"
# The flows' skills and their lines: the controller refuses flows without them.
FLOW_SKILLS = {
    "booking": "114",
    "general": "114",
    "policy": "hotline",
    "complaint": "hotline",
    "insurance_card": "hotline",
    "reimbursement": "hotline",
}
_numbers = itertools.count(1)


def fault_stack_environment(
    database_url: str, state_dir: Path, name: str, session: Settings
) -> dict[str, str]:
    """The CC_* variables of a test stack ``name``, shared by this process and its controller."""
    return {
        **stack_environment(database_url, state_dir, name),
        "CC_ENVIRONMENT": "test",
        "CC_ASTERISK_VERBOSE": "3",  # the dialplan's steps in messages.log, as the session's
        "CC_FALLBACK_AGENTS": FALLBACK_AGENT,
        "CC_DID_114": DID_114,
        "CC_DID_HOTLINE": DID_HOTLINE,
        "CC_CALLER_ID_114": CALLER_ID_114,
        "CC_CALLER_ID_HOTLINE": CALLER_ID_HOTLINE,
        "CC_RTP_PORT_START": str(session.rtp_port_start),
        "CC_RTP_PORT_END": str(session.rtp_port_end),
    }


def settings_of(env: dict[str, str]) -> Settings:
    return load_settings(**{k.removeprefix("CC_").lower(): v for k, v in env.items()})


@dataclass
class FaultStack:
    env: dict[str, str]
    settings: Settings
    asterisk: AsteriskInstance
    ami: AmiClient  # the tools user: places simulated calls, sees every event
    store: AcdStore
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    events: list[dict[str, str]] = field(default_factory=list)

    def start_controller(self) -> None:
        self.starts += 1
        with self.log.open("a") as out:
            out.write(f"--- controller start #{self.starts}\n")
            out.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "callcenter.cli.main", "controller"],
                env={**os.environ, **self.env},
                stdout=out,
                stderr=out,
            )

    async def serving(self, timeout: float = 60.0) -> None:
        """Until the controller started last logs that it serves the lines."""
        marker = f"--- controller start #{self.starts}\n"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            text = self.log.read_text(errors="replace").rsplit(marker, 1)[-1]
            if "serving lines" in text:
                return
            assert self.process is not None and self.process.poll() is None, text[-3000:]
            await asyncio.sleep(0.2)
        raise AssertionError("the controller did not start:\n" + self.log_tail())

    def kill_controller(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop_controller(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def watch(self, pattern: str) -> None:
        self.ami.subscribe(pattern, self.events.append)

    def seen(self, predicate: Callable[[dict[str, str]], bool]) -> list[dict[str, str]]:
        return [e for e in self.events if predicate(e)]

    async def add_agent(self, agent_id: int, skill: str, *, talk: int, name: str = "") -> str:
        """A simulated agent (answers after 0.5 s, talks ``talk`` s), ready for ``skill``;
        ``name``: his phone's (Local/<name>@sim-agent), as his agent row has it, if given."""
        name = name or f"safe{agent_id}x{next(_numbers)}"
        await self.ami.db_put("simagent", f"{name}/ring", "0.5")
        await self.ami.db_put("simagent", f"{name}/talk", str(talk))
        interface = f"Local/{name}@sim-agent"
        profile = AgentProfile(agent_id, f"9{agent_id:05d}", interface, {skill: 5})
        await self.store.register_agent(profile)
        view = await self.store.agent(agent_id)
        if view is not None and view.status.state != AgentState.READY:
            await self.store.change_state(agent_id, AgentState.READY, actor="test")
        return interface


async def fault_stack(
    env: dict[str, str], log: Path, session_factory: sessionmaker[Session], redis: Redis
) -> FaultStack:
    """Asterisk started and AMI connected; the controller is started by the test."""
    settings = settings_of(env)
    asterisk = AsteriskInstance(settings)
    await asyncio.to_thread(asterisk.start)
    ami = AmiClient(settings, AmiUser.TOOLS)
    await ami.connect(30)
    skills = skill_configs(session_factory)
    store = AcdStore(redis, settings.desk_redis_prefix, skills, controller_id="test")
    return FaultStack(env, settings, asterisk, ami, store, log)


@contextlib.asynccontextmanager
async def running_fault_stack(
    prefix: str,
    database_url: str,
    session_factory: sessionmaker[Session],
    session: Settings,
    state: Path,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[FaultStack]:
    """A fault stack with its controller serving, the fallback agent answering at once and
    talking 1 s; stopped and its Redis keys removed afterwards."""
    for skill, line in FLOW_SKILLS.items():
        ensure_skill(session_factory, skill, line)
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    env = {**fault_stack_environment(database_url, state, name, session), **(extra_env or {})}
    # The session's Redis unless the stack is given one (CC_REDIS_URL) it may stop.
    redis = Redis.from_url(env.get("CC_REDIS_URL", session.redis_url), decode_responses=True)
    built = await fault_stack(env, state / "controller.log", session_factory, redis)
    await built.ami.db_put("simagent", "fallback/ring", "0.5")
    await built.ami.db_put("simagent", "fallback/talk", "1")
    built.watch("UserEvent")
    built.watch("DialEnd")
    built.start_controller()
    await built.serving()
    try:
        yield built
    finally:
        built.stop_controller()
        built.ami.close()
        await asyncio.to_thread(built.asterisk.stop)
        async for key in redis.scan_iter(f"{name}*"):
            await redis.delete(key)
        await redis.aclose()  # type: ignore[attr-defined]


class Callers:
    """Simulated callers of 114, each with a number of its own."""

    def __init__(self, stack: FaultStack) -> None:
        self._stack = stack
        self.started: dict[str, float] = {}

    async def call(self, *, key: str = "", hold: float = 60) -> str:
        """A call; with ``key``, pressed once the welcome has played and again every 2 s for
        a while (the queue ignores it), so a prompt that starts late still hears it."""
        number = f"139{uuid.uuid4().int % 10**8:08d}"
        welcome = await asyncio.to_thread(prompt_seconds, self._stack.settings, "114", "welcome")
        self.started[number] = time.time()
        await simulated_call(
            self._stack.ami,
            carrier_channel(DID_114),
            caller_id=number,
            dtmf=(key + "wwww") * 8 if key else "",
            delay=welcome + 1.5,
            hold=hold,
        )
        return number


async def until(check: Callable[[], object], timeout: float, what: str, stack: FaultStack) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await _truthy(check()):
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen in {timeout:g} s\n{stack.log_tail()}")
        await asyncio.sleep(0.3)


async def _truthy(value: object) -> bool:
    if asyncio.iscoroutine(value):
        value = await value
    return bool(value)


def records_of(
    factory: sessionmaker[Session], settings: Settings, numbers: list[str]
) -> dict[str, CallRecord]:
    cipher = PersonalDataCipher.of(settings)
    hashes = {cipher.lookup_hash(normalize_number(n)): n for n in numbers}
    with factory() as db:
        rows = db.scalars(select(CallRecord).where(CallRecord.caller_hash.in_(hashes)))
        return {hashes[r.caller_hash]: r for r in rows}


def recordings_of(factory: sessionmaker[Session], call_ids: list[str]) -> dict[str, Recording]:
    with factory() as db:
        rows = db.scalars(select(Recording).where(Recording.call_id.in_(call_ids)))
        return {r.call_id: r for r in rows}


async def states(stack: FaultStack, agent_ids: list[int]) -> list[AgentState]:
    views = [await stack.store.agent(a) for a in agent_ids]
    return [v.status.state for v in views if v is not None]


async def all_on_call(stack: FaultStack, agent_ids: list[int]) -> bool:
    return await states(stack, agent_ids) == [AgentState.ON_CALL] * len(agent_ids)
