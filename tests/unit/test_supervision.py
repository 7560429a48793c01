"""The supervisor's rules: a failing loop is restarted with a growing back-off and counted; a
loop that ends as its process stops is not; a guarded event handler's failure is counted and
the next event handled."""

from __future__ import annotations

import asyncio

import pytest

from backend.supervision import Backoff, Supervisor


def test_the_back_off_doubles_up_to_its_bound() -> None:
    backoff = Backoff(first_seconds=0.5, max_seconds=10.0)
    delays = [0.5]
    for _ in range(6):
        delays.append(backoff.next(delays[-1]))
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


async def test_a_loop_that_fails_or_returns_early_is_restarted_and_counted() -> None:
    supervisor = Supervisor("test", Backoff(first_seconds=0.01, max_seconds=0.02))
    stop = asyncio.Event()
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise ConnectionError("redis went away")
        if runs == 2:
            return  # ended although its process runs: restarted too
        await stop.wait()

    supervisor.start("flaky", flaky, stop)
    while runs < 3:
        await asyncio.sleep(0.01)
    health = supervisor.health()["flaky"]
    assert health.restarts == 2 and health.running
    assert health.last_error == "returned while its process runs"
    stop.set()
    await asyncio.wait_for(supervisor.wait(), 5)
    assert supervisor.health()["flaky"].restarts == 2 and not health.running
    with pytest.raises(ValueError):
        supervisor.start("flaky", flaky, stop)


async def test_a_guarded_handler_counts_its_failures_and_handles_the_next_event() -> None:
    supervisor = Supervisor("test")
    seen: list[str] = []

    async def on_event(event: dict[str, str]) -> None:
        if event.get("bad"):
            raise RuntimeError("state changed meanwhile")
        seen.append(event["Event"])

    guarded = supervisor.guarded("answers.DialEnd", on_event)
    for event in ({"Event": "DialEnd", "bad": "1"}, {"Event": "DialEnd"}):
        result = guarded(event)
        if result is not None:
            await result
    health = supervisor.health()["answers.DialEnd"]
    assert seen == ["DialEnd"] and health.restarts == 1
    assert health.last_error == "RuntimeError: state changed meanwhile"
