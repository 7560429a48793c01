"""An AMI client that asks for only some events gets only those from the real Asterisk (the
AGI bench's harness relies on it to keep call events off the loop it times)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.settings import Settings
from ivr.pbx.instance import AsteriskInstance

pytestmark = pytest.mark.asterisk


async def test_only_the_asked_events_arrive(asterisk: AsteriskInstance, settings: Settings) -> None:
    narrow = AmiClient(settings, AmiUser.TOOLS, only_events=["UserEvent"])
    wide = AmiClient(settings, AmiUser.TOOLS)  # the default classes: call events too
    seen: dict[str, list[str]] = {"narrow": [], "wide": []}
    # Each connection hears the call's end on its own socket: wait for both before closing.
    done = {"narrow": asyncio.Event(), "wide": asyncio.Event()}

    def recorder(name: str) -> Callable[[dict[str, str]], None]:
        def record(event: dict[str, str]) -> None:
            seen[name].append(event.get("Event", ""))
            if event.get("UserEvent") == "BenchDone":
                done[name].set()

        return record

    narrow.subscribe("*", recorder("narrow"))
    wide.subscribe("*", recorder("wide"))
    await narrow.connect()
    await wide.connect()
    try:
        # A call through the bench's dialplan menu: three prompts, then a BenchDone user event.
        await wide.originate("Local/s@bench-dialplan", application="Wait", data="10")
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in done.values())), 30)
    finally:
        narrow.close()
        wide.close()
    assert "Newchannel" in seen["wide"] and "UserEvent" in seen["wide"]
    # FullyBooted greets every login, before the filter can be in place.
    assert set(seen["narrow"]) - {"FullyBooted"} == {"UserEvent"}
