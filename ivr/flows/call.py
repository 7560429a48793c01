"""Who is calling, on which line: the CallInfo of an AGI session (or any channel)."""

from __future__ import annotations

from ivr.flows.ports import CallInfo, Channel

# Channel variables the dialplan (asterisk_conf/extensions.conf) sets before calling the AGI.
VAR_DID = "CC_DID"


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
