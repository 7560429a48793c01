"""Benchmark: the FastAGI controller against plain dialplan, same machine, same run.

Each call plays a three-prompt menu (three 1-second prompts, each interruptible by a key).
The dialplan variant does it with Background(); the AGI variant with three STREAM FILE
commands from our controller, plus one GET VARIABLE between prompts whose round trip is
timed (a command with no media, so its time is pure controller + protocol overhead).
Rounds of N concurrent calls alternate between the variants; the figure is calls per second
of AGI over dialplan, and the p50/p99 AGI command round trip at N concurrent calls.

    .venv/bin/python -m bench.agi_overhead.run [--calls 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import time

import uvloop

from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.settings import Settings, load_settings
from ivr.agi.server import AgiServer
from ivr.agi.session import AgiSession
from ivr.pbx import rootfs
from ivr.pbx.instance import AsteriskInstance

PROMPT = "silence/1"
KEYS = "0123456789*#"


def percentile(values: list[float], pct: float) -> float:
    """In milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bench:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # The harness needs only its BenchDone user events; every other event it received
        # would be parsed on the loop that serves the AGI calls being timed.
        self.ami = AmiClient(settings, AmiUser.TOOLS, only_events=["UserEvent"])
        self.done: dict[str, int] = {"dialplan": 0, "agi": 0}
        self.round_trips: list[float] = []
        self.loop_lags: list[float] = []
        self._changed = asyncio.Event()

    async def watch_loop(self, stop: asyncio.Event, tick: float = 0.005) -> None:
        """How late the event loop wakes a 5 ms timer: time the loop was busy elsewhere."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            started = loop.time()
            await asyncio.sleep(tick)
            self.loop_lags.append(loop.time() - started - tick)

    async def menu(self, session: AgiSession) -> None:
        for _ in range(3):
            await session.stream_file(PROMPT, KEYS)
            started = time.perf_counter()
            await session.get_variable("CHANNEL")
            self.round_trips.append(time.perf_counter() - started)

    def on_user_event(self, event: dict[str, str]) -> None:
        mode = event.get("Mode", "")
        if event.get("UserEvent") == "BenchDone" and mode in self.done:
            self.done[mode] += 1
            self._changed.set()

    async def round(self, mode: str, calls: int) -> float:
        """Start ``calls`` calls at once; seconds until the last one finished its menu."""
        target = self.done[mode] + calls
        started = time.perf_counter()
        for _ in range(calls):
            await self.ami.originate(
                f"Local/s@bench-{mode}", application="Wait", data="30", timeout_ms=10000
            )
        while self.done[mode] < target:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), 60)
            except TimeoutError:
                raise SystemExit(
                    f"{mode}: only {self.done[mode]}/{target} calls finished"
                ) from None
        return time.perf_counter() - started


async def run(calls: int, rounds: int) -> None:
    settings = load_settings(
        # The test environment's built-in Asterisk is the one with [bench-dialplan]/[bench-agi].
        environment="test",
        asterisk_instance="bench-agi",
        ami_port=free_port(),
        sip_port=free_port(),
        asterisk_http_port=free_port(),
        agi_port=free_port(),
    )
    rootfs.build(settings.asterisk_root)
    instance = AsteriskInstance(settings)
    instance.start()
    bench = Bench(settings)
    server = AgiServer({"bench": bench.menu}, settings.agi_bind, settings.agi_port)
    await server.start()
    try:
        await bench.ami.connect()
        bench.ami.subscribe("UserEvent", bench.on_user_event)
        await bench.round("dialplan", 5)  # warm-up: sounds in the page cache, modules hot
        await bench.round("agi", 5)
        bench.round_trips.clear()
        times: dict[str, list[float]] = {"dialplan": [], "agi": []}
        stop_watch = asyncio.Event()
        watcher = asyncio.create_task(bench.watch_loop(stop_watch))
        for _ in range(rounds):
            for mode in ("dialplan", "agi"):
                times[mode].append(await bench.round(mode, calls))
                await asyncio.sleep(1)  # let the last channels hang up
        stop_watch.set()
        await watcher
    finally:
        bench.ami.close()
        await server.stop()
        instance.stop()
        shutil.rmtree(instance.dir, ignore_errors=True)

    rate = {mode: calls / statistics.median(values) for mode, values in times.items()}
    p50, p99 = percentile(bench.round_trips, 50), percentile(bench.round_trips, 99)
    lag99 = percentile(bench.loop_lags, 99)
    print(f"concurrent calls per round: {calls}, rounds per variant: {rounds}")
    print(f"dialplan: {rate['dialplan']:.1f} calls/s   AGI controller: {rate['agi']:.1f} calls/s")
    print(f"AGI/dialplan call rate ratio: {rate['agi'] / rate['dialplan']:.3f} (target >= 0.8)")
    print(
        f"AGI command round trip at {calls} concurrent calls over {len(bench.round_trips)} "
        f"commands: p50 {p50:.2f} ms, p99 {p99:.2f} ms (target p99 < 20 ms)"
    )
    print(f"controller event-loop lag p99: {lag99:.2f} ms (how late a 5 ms timer fired)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    uvloop.run(run(args.calls, args.rounds))  # the loop `callcenter controller` runs on


if __name__ == "__main__":
    main()
