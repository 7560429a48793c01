"""Call control from the desk over AMI: find the agent's channel, hold, hang up, transfer.

The caller's channel runs the controller's AGI (which dialled the agent), so the desk acts on
the *agent's* leg: hanging it up ends the Dial and the controller carries on with wrap-up;
a blind transfer from the agent's leg moves the caller (its bridged peer) to the target.
"""

from __future__ import annotations

from backend.ami.client import AmiClient, AmiError
from backend.errors import Conflict

# <skill>@desk-transfer and <agent number>@desk-transfer hand the caller back to the ACD.
TRANSFER_CONTEXT = "desk-transfer"


class NoActiveChannel(Conflict):
    code = "no-active-channel"


class TransferFailed(Conflict):
    code = "transfer-failed"


def agent_channels(channels: list[dict[str, str]], interface: str) -> list[str]:
    """Channel names of ``interface`` among AMI ``CoreShowChannel`` events.

    Names look like ``PJSIP/8001-00000007``; a Local agent has two halves
    ``Local/a1@sim-agent-00000003;1`` and ``;2`` — the ``;1`` half is the one bridged with the
    caller, so it comes first.
    """
    prefix = interface + "-"
    names = [c["Channel"] for c in channels if c.get("Channel", "").startswith(prefix)]
    return sorted(names, key=lambda n: (not n.endswith(";1"), n))


class CallControl:
    def __init__(self, ami: AmiClient) -> None:
        self._ami = ami

    async def channel(self, interface: str) -> str:
        names = agent_channels(await self._ami.channels(), interface)
        if not names:
            raise NoActiveChannel("当前没有进行中的通话")
        return names[0]

    async def hold(self, interface: str, on: bool) -> None:
        # Muting both directions of the agent leg keeps the AGI's Dial intact; the caller
        # hears silence rather than music (music would need the controller to re-bridge).
        # MUTEAUDIO() set through Setvar needs the "call" right only (the MuteAudio action
        # would need "system", which reaches the shell).
        channel = await self.channel(interface)
        for direction in ("in", "out"):
            await self._ami.set_var(channel, f"MUTEAUDIO({direction})", "on" if on else "off")

    async def hangup(self, interface: str) -> None:
        await self._ami.hangup(await self.channel(interface))

    async def transfer(self, interface: str, extension: str) -> None:
        """Blind transfer: the caller leaves the agent for ``extension``@desk-transfer."""
        channel = await self.channel(interface)
        try:
            await self._ami.action(
                "BlindTransfer", Channel=channel, Exten=extension, Context=TRANSFER_CONTEXT
            )
        except AmiError as exc:
            # "Transfer invalid": the agent's leg is not (or no longer) bridged with the caller,
            # e.g. in the instant after answering or after the caller hung up.
            raise TransferFailed("转接未成功：通话尚未接通或已结束，请稍后重试") from exc
