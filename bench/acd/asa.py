"""Bench part 2: average speed of answer through our ACD vs Asterisk's app_queue, same run.

One scratch Asterisk instance (own ports), five simulated agents for each system with the
same ring and talk times, and the same arrival pattern of callers sent first through our
controller (FastAGI + Redis ACD, the 114 DID) and then through ``Queue()`` of app_queue
(strategy ``leastrecent``, i.e. longest idle; loaded into this instance only for the bench,
with a dialplan context added over AMI). The speed of answer of a call is queue entry to
agent answer, both measured in this process: the answer from the same AMI event for both
(``DialEnd`` with ANSWER on the caller's channel), the entry from our enqueue and from
app_queue's ``QueueCallerJoin``. app_queue gets ``retry = 1`` (default 5) to be fair to it.

Usage: ``.venv/bin/python bench/acd/asa.py [--callers 20] [--agents 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import time
import uuid
from dataclasses import dataclass, field

from redis.asyncio import Redis

from backend.acd.model import AgentProfile
from backend.acd.policy import SkillConfig
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.flows.schema import PromptText
from backend.settings import Settings, load_settings
from ivr.acd.answers import AnswerWatch
from ivr.acd.dispatcher import Dispatcher
from ivr.acd.queue import AcdQueue, QueueReport
from ivr.acd.waiter import QueueSettings
from ivr.agi.server import AgiServer
from ivr.agi.session import AgiSession
from ivr.flows.ports import CallInfo
from ivr.pbx.instance import AsteriskInstance
from ivr.pbx.simulated import carrier_channel, simulated_call

RING, TALK = 1, 3  # seconds; the same for both systems' simulated agents
ARRIVAL_GAP = 0.4  # seconds between callers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Beep:
    async def sound(self, prompt: PromptText, *, elderly: bool) -> str:
        return "beep"


@dataclass
class Collected:
    ours: list[QueueReport] = field(default_factory=list)
    joined: dict[str, float] = field(default_factory=dict)  # app_queue caller channel -> time
    connected: dict[str, float] = field(default_factory=dict)

    async def queue_left(self, report: QueueReport) -> None:
        self.ours.append(report)

    def on_queue_event(self, event: dict[str, str]) -> None:
        now = time.time()
        channel = event.get("Channel", "")
        if event.get("Event") == "QueueCallerJoin":
            self.joined.setdefault(channel, now)
        elif (
            event.get("Event") == "DialEnd"
            and event.get("DialStatus") == "ANSWER"
            and channel in self.joined
        ):
            self.connected.setdefault(channel, now)


def queues_conf(agents: int) -> str:
    members = "\n".join(f"member => Local/bq{n}@sim-agent" for n in range(1, agents + 1))
    return f"""[general]
persistentmembers = no

[bench]
strategy = leastrecent
timeout = 15
retry = 1
wrapuptime = 0
ringinuse = no
autofill = yes
joinempty = yes
leavewhenempty = no
announce-frequency = 0
periodic-announce-frequency = 0
musicclass = default
{members}
"""


async def run_ours(
    settings: Settings, ami: AmiClient, callers: int, agents: int, sink: Collected
) -> None:
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    prefix = f"bench-asa-{uuid.uuid4().hex[:8]}"
    store = AcdStore(redis, prefix, [SkillConfig("bench", wrapup_seconds=0)], controller_id="b")
    answers = AnswerWatch(store)
    answers.attach(ami)
    dispatcher = Dispatcher(store, tick_seconds=0.1)
    queue = AcdQueue(
        store, Beep(), dispatcher, QueueSettings(callback_key=None), observer=sink, answers=answers
    )
    done: asyncio.Queue[None] = asyncio.Queue()

    async def handler(session: AgiSession) -> None:
        call = CallInfo(session.linked_id, session.call_id, "114", "", settings.did["114"])
        try:
            await queue.enter_queue(session, call, "bench", 0)
        finally:
            await done.put(None)

    server = AgiServer({"114": handler}, settings.agi_bind, settings.agi_port)
    await server.start()
    stop = asyncio.Event()
    runner = asyncio.create_task(dispatcher.run(stop))
    try:
        for n in range(1, agents + 1):
            await ami.db_put("simagent", f"bo{n}/ring", str(RING))
            await ami.db_put("simagent", f"bo{n}/talk", str(TALK))
            await store.register_agent(
                AgentProfile(n, f"bo{n}", f"Local/bo{n}@sim-agent", {"bench": 5})
            )
            await store.change_state(n, AgentState.READY)
        for _ in range(callers):
            await originate_caller(ami, carrier_channel(settings.did["114"]))
            await asyncio.sleep(ARRIVAL_GAP)
        for _ in range(callers):
            await asyncio.wait_for(done.get(), 300)
    finally:
        stop.set()
        await runner
        await server.stop()
        async for key in redis.scan_iter(f"{prefix}*"):
            await redis.delete(key)
        await redis.aclose()  # type: ignore[attr-defined]


async def run_app_queue(
    instance: AsteriskInstance, ami: AmiClient, callers: int, agents: int, sink: Collected
) -> None:
    (instance.dir / "etc" / "queues.conf").write_text(queues_conf(agents))
    for n in range(1, agents + 1):
        await ami.db_put("simagent", f"bq{n}/ring", str(RING))
        await ami.db_put("simagent", f"bq{n}/talk", str(TALK))
    await ami.action("ModuleLoad", Module="app_queue.so", LoadType="load")
    for line in ("s,1,Answer()", "s,2,Queue(bench,,,,300)", "s,3,Hangup()"):
        await ami.command(f"dialplan add extension {line} into bench-aq")
    ami.subscribe("QueueCallerJoin", sink.on_queue_event)
    ami.subscribe("DialEnd", sink.on_queue_event)
    for _ in range(callers):
        await originate_caller(ami, "Local/s@bench-aq")
        await asyncio.sleep(ARRIVAL_GAP)
    deadline = time.monotonic() + 300
    while len(sink.connected) < callers and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


async def originate_caller(ami: AmiClient, channel: str) -> None:
    await simulated_call(ami, channel, caller_id="13800000000", hold=120)


async def main(callers: int, agents: int) -> None:
    run = uuid.uuid4().hex[:6]
    settings = load_settings(
        environment="test",
        asterisk_instance=f"bench-acd-{run}",
        ami_port=free_port(),
        sip_port=free_port(),
        asterisk_http_port=free_port(),
        agi_port=free_port(),
    )
    instance = AsteriskInstance(settings)
    instance.start()
    ami = AmiClient(settings, AmiUser.TOOLS)
    try:
        await ami.connect()
        sink = Collected()
        await run_ours(settings, ami, callers, agents, sink)
        await run_app_queue(instance, ami, callers, agents, sink)
    finally:
        ami.close()
        instance.stop()
        shutil.rmtree(instance.dir, ignore_errors=True)

    ours = [r.wait_seconds for r in sink.ours if r.answered_at is not None]
    theirs = [sink.connected[c] - t for c, t in sink.joined.items() if c in sink.connected]
    print(
        f"ASA, {callers} callers every {ARRIVAL_GAP} s, {agents} agents "
        f"(ring {RING} s, talk {TALK} s), same Asterisk, same run"
    )
    for name, waits in (("our ACD", ours), ("app_queue leastrecent", theirs)):
        print(
            f"{name:<22} answered {len(waits):3}/{callers}  ASA {statistics.mean(waits):6.2f} s  "
            f"median {statistics.median(waits):6.2f} s"
        )
    extra = statistics.mean(ours) - statistics.mean(theirs)
    print(
        f"our extra delay per call {extra:+.2f} s (ratio {statistics.mean(ours) / statistics.mean(theirs):.2f}); "
        f"target <= 0.3 s: {'met' if extra <= 0.3 else 'MISSED'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=20)
    parser.add_argument("--agents", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.callers, args.agents))
