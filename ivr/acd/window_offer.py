"""The caller in the queue books a half-hour callback window by keys.

He presses the window key (``#`` unless configured) while he waits. He hears the next free
windows of his line (``backend/telephony/callback_windows.py``) — "今天16点30分到17点请按1，
…，继续排队请按0" — and keys one. The callback gate admits his number (the same rules and
daily cap as a callback at his place), the window is booked, he hears when he will be
called and the call ends; the task feeder dials him inside the window.

Any other outcome keeps him waiting at his place: no free window, no key within
``MENU_SECONDS``, ``0``, a number the gate refuses, the window filled meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from backend.telephony.callback_bookings import CallbackBookings, WindowFull
from backend.telephony.callback_gate import CallbackGate, CallbackRefused
from backend.telephony.callback_windows import CallbackWindow, window_words
from ivr.flows.ports import CallInfo

log = logging.getLogger("ivr.acd")

MENU_SECONDS = 8.0
STAY_KEY = "0"
NO_WINDOW = "近期没有可以预约的回电时段，请继续等待。"


@dataclass(frozen=True)
class Booked:
    window: CallbackWindow
    task_id: int
    confirmation: str  # what the caller hears before the call ends


def menu_text(windows: list[CallbackWindow], today: date) -> str:
    choices = "，".join(f"{window_words(w, today)}请按{n}" for n, w in enumerate(windows, 1))
    return f"预约回电时段：{choices}；继续排队请按{STAY_KEY}。"


def confirm_text(window: CallbackWindow, today: date) -> str:
    words = window_words(window, today)
    return f"好的，我们将在{words}之间给您回电，请保持电话畅通，请挂机。"


class WindowOffer:
    """One caller's choice of a window (the waiter plays the texts)."""

    def __init__(self, bookings: CallbackBookings, gate: CallbackGate) -> None:
        self._bookings = bookings
        self._gate = gate

    async def run(
        self,
        call: CallInfo,
        skill: str,
        say: Callable[[str, str], Awaitable[str | None]],
        wait_key: Callable[[float, str], Awaitable[str | None]],
    ) -> Booked | None:
        """The booked window (its confirmation not played yet), or None when the caller
        keeps waiting. ``say(text, keys)``: play, listening for ``keys``; ``wait_key(seconds,
        keys)``: the first of ``keys`` pressed within the time, or None."""
        windows = await self._bookings.offer_async(call.line)
        if not windows:
            await say(NO_WINDOW, "")
            return None
        today = self._bookings.local_now().date()
        keys = STAY_KEY + "".join(str(n) for n in range(1, len(windows) + 1))
        key = await say(menu_text(windows, today), keys) or await wait_key(MENU_SECONDS, keys)
        if not key or key == STAY_KEY:
            return None
        window = windows[int(key) - 1]
        try:
            admitted = await self._gate.admit_async(
                call.caller_number, call_id=call.call_id, line=call.line
            )
            booked = await self._bookings.book_async(
                window,
                line=call.line,
                skill=skill,
                call_id=call.call_id,
                phone_enc=admitted.number_enc,
                phone_hash=admitted.number_hash,
            )
        except (CallbackRefused, WindowFull) as refusal:
            log.info("call %s: window refused (%s)", call.call_id, refusal.code)
            await say(f"{refusal.message}。请继续等待，坐席空闲时将为您接通。", "")
            return None
        log.info("call %s booked callback window %s", call.call_id, window.start)
        return Booked(window, booked.task_id, confirm_text(window, today))
