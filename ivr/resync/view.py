"""Asterisk's own view of its calls, from AMI ``CoreShowChannels`` (one event per channel,
each naming its call's Linkedid and the bridge it is in)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

# Where the dialplan puts a caller no controller serves (asterisk_conf/extensions.conf).
FALLBACK = ("incoming", "fallback")


class ChannelLister(Protocol):
    @property
    def connected(self) -> bool: ...

    async def channels(self, timeout: float = ...) -> list[dict[str, str]]: ...


@dataclass(frozen=True)
class AsteriskView:
    taken_at: float  # epoch seconds
    call_ids: frozenset[str]  # every channel's Linkedid and Uniqueid
    channels: frozenset[str]  # channel names
    in_fallback: frozenset[str]  # Linkedids of callers in the dialplan's fallback
    bridged: frozenset[str]  # names of channels in a bridge

    @classmethod
    def of(cls, events: Iterable[Mapping[str, str]], taken_at: float) -> AsteriskView:
        events = list(events)
        return cls(
            taken_at=taken_at,
            call_ids=frozenset(
                i for e in events for i in (e.get("Linkedid"), e.get("Uniqueid")) if i
            ),
            channels=frozenset(e.get("Channel", "") for e in events) - {""},
            in_fallback=frozenset(
                e.get("Linkedid", "")
                for e in events
                if (e.get("Context"), e.get("Exten")) == FALLBACK
            )
            - {""},
            bridged=frozenset(e.get("Channel", "") for e in events if e.get("BridgeId")),
        )

    def has_call(self, call_id: str) -> bool:
        return call_id in self.call_ids

    def phone_busy(self, interface: str) -> bool:
        """Whether a channel of this agent's phone exists (``PJSIP/1051`` has
        ``PJSIP/1051-0000000a``; ``Local/a1@sim-agent`` has ``Local/a1@sim-agent-0000001;1``)."""
        return bool(interface) and any(c.startswith(interface + "-") for c in self.channels)


async def asterisk_view(ami: ChannelLister) -> AsteriskView:
    taken_at = time.time()  # before the list: anything newer than the list is left alone
    return AsteriskView.of(await ami.channels(), taken_at)
