"""The chaos loop: every 30-60 s one part of the stack is killed or restarted, in a shuffled
round so that each part is hit as often as the others."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

from bench.soak.stack import Stack


def faults(stack: Stack) -> dict[str, Callable[[], str]]:
    return {
        "controller": lambda: stack.restart_service("controller"),
        "desk worker": stack.kill_desk_worker,
        "redis": stack.restart_redis,
        "postgresql": stack.restart_postgres,
        "asterisk": stack.restart_asterisk,
    }


async def chaos_loop(
    stack: Stack, stop: asyncio.Event, log: list[str], rng: random.Random, began: float
) -> None:
    menu = faults(stack)
    order: list[str] = []
    while True:
        try:
            await asyncio.wait_for(stop.wait(), rng.uniform(30, 60))
            return
        except TimeoutError:
            pass
        if not order:
            order = rng.sample(list(menu), len(menu))
        part = order.pop()
        at = time.monotonic() - began
        try:
            what = await asyncio.to_thread(menu[part])
        except Exception as exc:
            what = f"{part}: the fault itself failed: {exc}"
        log.append(f"{at:6.0f} s  {what}")
        print(f"  chaos {at:6.0f} s: {what}", flush=True)
