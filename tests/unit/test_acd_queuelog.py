"""queue_log lines that existing queue-reporting tools understand."""

from __future__ import annotations

from pathlib import Path

from ivr.acd.memberlog import member_entries
from ivr.acd.queuelog import QueueLogEntry, QueueLogFile, member_name, parse_line

T0 = 1_764_000_000


def test_an_entry_is_one_app_queue_line_and_reads_back() -> None:
    entry = QueueLogEntry(T0 + 0.7, "1764.7", "booking", member_name(3), "CONNECT", (20, "9.1", 2))
    assert entry.line() == "1764000000|1764.7|booking|Agent/3|CONNECT|20|9.1|2"
    assert parse_line(entry.line() + "\n") == QueueLogEntry(
        T0, "1764.7", "booking", "Agent/3", "CONNECT", ("20", "9.1", "2")
    )


def test_empty_fields_are_none_and_a_pipe_cannot_shift_the_fields() -> None:
    entry = QueueLogEntry(T0, "", "booking", member_name(None), "PAUSE", ("a|b\nc",))
    assert entry.line() == "1764000000|NONE|booking|NONE|PAUSE|a_b c"


async def test_the_file_gets_each_line_when_written(tmp_path: Path) -> None:
    log = QueueLogFile(tmp_path / "sub" / "queue_log")
    await log.write(QueueLogEntry(T0, "c1", "booking", "NONE", "ENTERQUEUE", ("", "", 1)))
    assert log.path.read_text() == "1764000000|c1|booking|NONE|ENTERQUEUE|||1\n"
    await log.write(QueueLogEntry(T0 + 3, "c1", "booking", "NONE", "ABANDON", (1, 1, 3)))
    assert log.path.read_text().splitlines()[-1] == "1764000003|c1|booking|NONE|ABANDON|1|1|3"


def change(state: str, before: str, reason: str = "") -> dict[str, str]:
    return {"agent_id": "4", "state": state, "before": before, "reason": reason,
            "at": str(T0 * 1000), "skills": "booking,policy"}  # fmt: skip


def lines(state: str, before: str, reason: str = "") -> list[str]:
    entries = member_entries(change(state, before, reason))
    return [e.line().split("|", 1)[1] for e in entries]


def test_signing_in_and_out_adds_and_removes_the_member_in_each_skill_queue() -> None:
    assert lines("ready", "logged_out") == [
        "NONE|booking|Agent/4|ADDMEMBER|",
        "NONE|policy|Agent/4|ADDMEMBER|",
    ]
    assert lines("not_ready", "logged_out", "login")[0] == "NONE|booking|Agent/4|ADDMEMBER|PAUSED"
    assert lines("logged_out", "not_ready") == [
        "NONE|booking|Agent/4|REMOVEMEMBER|",
        "NONE|policy|Agent/4|REMOVEMEMBER|",
    ]


def test_not_ready_pauses_everywhere_with_its_reason() -> None:
    assert lines("not_ready", "ready", "meal") == [
        "NONE|NONE|Agent/4|PAUSEALL|meal",
        "NONE|booking|Agent/4|PAUSE|meal",
        "NONE|policy|Agent/4|PAUSE|meal",
    ]
    # The automatic pause after a missed ring has app_queue's own reason.
    assert lines("not_ready", "ringing", "no_answer")[1] == "NONE|booking|Agent/4|PAUSE|Auto-Pause"
    assert lines("ready", "not_ready")[1:] == [
        "NONE|booking|Agent/4|UNPAUSE|",
        "NONE|policy|Agent/4|UNPAUSE|",
    ]


def test_calls_and_wrap_up_are_not_membership_changes() -> None:
    for state, before in [("reserved", "ready"), ("on_call", "ringing"), ("ready", "wrap_up")]:
        assert lines(state, before) == []


def test_an_event_from_before_the_states_were_carried_writes_nothing() -> None:
    old = change("logged_out", "")
    del old["before"]
    assert member_entries(old) == []
