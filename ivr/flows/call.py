"""Glue between an AGI session and a flow engine: who is calling, on which line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ivr.flows.engine import FlowEngine
from ivr.flows.ports import CallInfo, Channel

# Channel variables the dialplan (asterisk_conf/extensions.conf) sets before calling the AGI.
VAR_DID = "CC_DID"
VAR_LINE = "CC_LINE"


async def call_info(channel: Channel, line: str) -> CallInfo:
    env = channel.env
    did = await channel.get_variable(VAR_DID) or env.get("dnid", "") or env.get("extension", "")
    caller = env.get("callerid", "")
    if caller.lower() in ("unknown", "anonymous"):
        caller = ""
    unique_id = env.get("uniqueid", "")
    return CallInfo(
        call_id=env.get("linkedid") or unique_id,
        unique_id=unique_id,
        line=line,
        caller_number=caller,
        did=did,
        channel=env.get("channel", ""),
    )


def line_handler(engine: FlowEngine) -> Callable[[Channel], Awaitable[None]]:
    """The FastAGI handler for the engine's line: ``AgiServer({"114": line_handler(e), ...})``."""

    async def handle(session: Channel) -> None:
        call = await call_info(session, engine.flow.line)
        await engine.run(session, call)

    return handle
