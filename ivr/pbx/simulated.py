"""Simulated callers for tests, the demo and benchmarks: a real call into Asterisk.

Originating a ``Local/`` channel whose caller half runs [sim-caller] (asterisk_conf/
extensions.conf): it waits ``delay`` s, sends ``dtmf`` ('w' = 0.5 s pause), plays ``play``,
stays ``hold`` s and hangs up. The other half is the call Asterisk serves.
"""

from __future__ import annotations

from backend.ami.client import AmiClient


def carrier_channel(did: str) -> str:
    """A call arriving from the carrier on ``did`` (settings ``did``, by line)."""
    return f"Local/{did}@from-carrier"


async def simulated_call(
    ami: AmiClient,
    channel: str,
    *,
    caller_id: str = "13800138000",
    dtmf: str = "",
    play: str = "",
    delay: float = 1.0,
    hold: float = 5.0,
) -> str:
    """Place the call; returns the AMI ActionID."""
    return await ami.originate(
        channel,
        context="sim-caller",
        exten="s",
        caller_id=f'"{caller_id}" <{caller_id}>',
        variables={
            "SIM_DTMF": dtmf,
            "SIM_PLAY": play,
            "SIM_DELAY": f"{delay:g}",
            "SIM_HOLD": f"{hold:g}",
        },
    )
