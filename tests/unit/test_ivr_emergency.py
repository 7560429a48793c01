"""Emergency messages in the flow engine (scripted calls, an in-memory board): each mode at
the line's start, at a queue and after a found booking; a board that cannot be read costs
the caller nothing."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from backend.flows.loader import load_flows
from ivr.flows.ports import EmergencyNotice, IvrExit
from tests.unit.test_ivr_engine import CODE, ID_NUMBER, SPOKEN, Line


@dataclass
class MemoryBoard:
    notices: dict[tuple[str, str], EmergencyNotice] = field(default_factory=dict)
    broken: bool = False

    async def active(self, scope: str, target: str) -> EmergencyNotice | None:
        if self.broken:
            raise ConnectionError("database down")
        return self.notices.get((scope, target))


def line_with(board: MemoryBoard, tmp_path: Path) -> Line:
    line = Line(load_flows()["114"], tmp_path)
    line.engine.ports = replace(line.engine.ports, emergency=board)
    return line


def steps(line: Line) -> list[tuple[str, str]]:
    return [(s.node, s.outcome) for s in line.summary.steps]


async def test_end_mode_plays_the_message_and_ends_the_call(tmp_path: Path) -> None:
    board = MemoryBoard({("line", "114"): EmergencyNotice(7, "今日停诊，请改日来电。", "", "end")})
    line = line_with(board, tmp_path)
    channel = await line.call("1")
    assert channel.played == ["tts:今日停诊，请改日来电。"]
    assert line.queue.handoffs == []
    assert line.summary.exit is IvrExit.SELF_SERVICE
    assert steps(line) == [("emergency:line", "end")]


async def test_a_queue_message_plays_at_the_hand_off_and_a_recording_is_streamed(
    tmp_path: Path,
) -> None:
    recorded = EmergencyNotice(8, "", "custom/emergency-8", "continue")
    line = line_with(MemoryBoard({("queue", "booking"): recorded}), tmp_path)
    channel = await line.call("1")
    assert line.queue.handoffs == [("booking", 0)]
    assert channel.played[-2:] == ["custom/emergency-8", "114/to_booking_agent"]
    assert ("emergency:queue", "continue") in steps(line)


async def test_a_hospital_message_diverts_after_the_booking_is_read(tmp_path: Path) -> None:
    divert = EmergencyNotice(9, "该院今日停诊，为您转人工。", "", "divert", divert_skill="general")
    line = line_with(MemoryBoard({("hospital", "pumch"): divert}), tmp_path)
    key = (ID_NUMBER, CODE)
    line.bookings.bookings[key] = replace(line.bookings.bookings[key], hospital="pumch")
    channel = await line.call("2", ID_NUMBER, CODE)
    assert channel.played[-2:] == [f"tts:{SPOKEN}", "tts:该院今日停诊，为您转人工。"]
    assert line.queue.handoffs == [("general", 0)]
    assert ("emergency:hospital", "divert") in steps(line)


async def test_an_unreadable_board_leaves_the_flow_as_it_is(tmp_path: Path) -> None:
    line = line_with(MemoryBoard(broken=True), tmp_path)
    await line.call("1")
    assert line.queue.handoffs == [("booking", 0)]
