"""Wait estimates from the queue itself; announced positions never go backwards."""

from __future__ import annotations

from backend.acd.estimate import (
    Announcer,
    announcement_text,
    estimate_wait_seconds,
    rounded_minutes,
)


def test_estimate_grows_with_position_and_shrinks_with_agents() -> None:
    handles = [120.0, 240.0]  # 180 s average
    assert estimate_wait_seconds(1, 3, handles) == 30
    assert estimate_wait_seconds(4, 3, handles) == 210
    assert estimate_wait_seconds(4, 6, handles) == 105
    assert estimate_wait_seconds(4, 0, handles) is None  # nobody serves: no invented number


def test_announced_position_never_goes_up() -> None:
    announcer = Announcer()
    heard = [announcer.position_to_announce(p) for p in (5, 6, 4, 4, 7, 2)]
    assert heard == [5, 5, 4, 4, 4, 2]


def test_minutes_are_never_optimistic() -> None:
    assert rounded_minutes(10) == 1
    assert rounded_minutes(61) == 2


def test_announcement_text_in_chinese() -> None:
    assert announcement_text(3, 2, "*") == (
        "您前面还有2位来电，预计等待约2分钟。如需挂机等待回电，请按星号键。"
    )
    assert announcement_text(1, None, None) == "您是下一位，请耐心等待。"
