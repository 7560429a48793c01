"""Honest wait estimates and announcements that never go backwards.

app_queue announces an exponential average of past holds, which lags behind a queue that is
filling or emptying, and its positions have been heard going up. Here the estimate is made from
the queue as it is now: the caller's position, the agents who can serve the skill, and the
handle times of the skill's recent calls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

DEFAULT_HANDLE_SECONDS = 180.0


def estimate_wait_seconds(
    position: int,
    serving_agents: int,
    recent_handle_seconds: Sequence[float],
    default_handle_seconds: float = DEFAULT_HANDLE_SECONDS,
) -> float | None:
    """Expected wait of the caller at ``position`` (1 = next), or None if nobody serves it.

    With n agents each finishing a call every h seconds on average, one frees up every h/n
    seconds; the caller in front waits on average half of that (agents are midway through
    their calls), each further caller one more h/n.
    """
    if position < 1:
        return 0.0
    if serving_agents <= 0:
        return None
    handle = (
        sum(recent_handle_seconds) / len(recent_handle_seconds)
        if recent_handle_seconds
        else default_handle_seconds
    )
    return (position - 0.5) * handle / serving_agents


def rounded_minutes(seconds: float) -> int:
    """Minutes as announced: at least 1, rounded up, so the estimate is never optimistic."""
    return max(1, math.ceil(seconds / 60.0))


@dataclass
class Announcer:
    """Per caller: the position announced is never larger than the last one announced.

    A call can lose a place for honest reasons (a higher-priority caller arrived), but a caller
    who heard "third" and then hears "fifth" stops trusting the line. The wait estimate is not
    clamped: when agents sign out it honestly grows.
    """

    last_position: int | None = None
    announced: list[int] = field(default_factory=list)

    def position_to_announce(self, position: int) -> int:
        if self.last_position is not None:
            position = min(position, self.last_position)
        self.last_position = position
        self.announced.append(position)
        return position


def announcement_text(
    position: int, minutes: int | None, callback_key: str | None, window_key: str | None = None
) -> str:
    """The Chinese sentence the TTS speaks."""
    text = f"您前面还有{position - 1}位来电，" if position > 1 else "您是下一位，"
    if minutes is not None:
        text += f"预计等待约{minutes}分钟。"
    else:
        text += "请耐心等待。"
    if callback_key:
        text += f"如需挂机等待回电，请按{_key_name(callback_key)}。"
    if window_key:
        text += f"预约回电时段，请按{_key_name(window_key)}。"
    return text


def _key_name(key: str) -> str:
    return {"*": "星号键", "#": "井号键"}.get(key, f"{key}键")
